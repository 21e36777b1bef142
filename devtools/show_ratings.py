"""`make ratings`: the ratings stored in the running local stack's DynamoDB Local, newest first.

A scan, which is fine for a demo table and never done by the app.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from devtools import dynamodb_local

LOCAL = Path(os.environ.get("STOREPULSE_LOCAL_DIR", dynamodb_local.ROOT / ".local"))


def main() -> None:
    demo = json.loads((LOCAL / "demo.json").read_text())
    sys.path.insert(0, str(dynamodb_local.ROOT / "functions"))
    from chalicelib.storage.ratings import every_rating

    ddb = dynamodb_local.client(demo["dynamodb_endpoint"])
    ratings = sorted(
        every_rating(ddb=ddb, table=demo["table_name"]),
        key=lambda rating: rating.received_at,
        reverse=True,
    )
    print(f"{len(ratings)} ratings in {demo['table_name']} at {demo['dynamodb_endpoint']}")
    for rating in ratings[:20]:
        reasons = ",".join(rating.reasons) or "-"
        print(
            f"{rating.received_at.isoformat(timespec='milliseconds')}  {rating.store_id:<14} "
            f"{rating.channel:<6} score {rating.score}  reasons {reasons:<20} {rating.rating_id}"
        )


if __name__ == "__main__":
    main()
