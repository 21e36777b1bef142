"""`make rebuild-aggregates SINCE=2026-11-01`: recompute the aggregates of the running local
stack from its raw ratings (after a bug fix or a rule change), through the app's own
`rebuild_aggregates` function: the partials of the ratings that arrived from SINCE's UTC hour
on are recomputed, those of earlier arrivals left as they are. SINCE is a date or an ISO
date-time (`2026-11-18T09:30-05:00`; UTC without an offset). In AWS, invoke that Lambda with
{"since": "2026-11-01"}."""

from __future__ import annotations

import argparse
import json
import os
import sys

from devtools import local_stack


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--since",
        required=True,
        help="first arrival time to recompute: YYYY-MM-DD or an ISO date-time (UTC without offset)",
    )
    args = parser.parse_args()
    demo = json.loads((local_stack.LOCAL / "demo.json").read_text())
    os.environ.update(
        local_stack.local_env(demo["dynamodb_endpoint"], local_stack.local_keys(), demo["api_url"])
    )
    sys.path.insert(0, str(local_stack.FUNCTIONS))
    from chalice.test import Client

    from chalicelib.jobs.aggregate import parse_since

    try:
        parse_since(args.since)  # a bad SINCE is named here, not in a Lambda's traceback
    except ValueError as error:
        parser.error(str(error))

    from app import app

    with Client(app) as client:
        result = client.lambda_.invoke("rebuild_aggregates", {"since": args.since})
    print(json.dumps(result.payload))


if __name__ == "__main__":
    main()
