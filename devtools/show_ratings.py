"""`make ratings`: the ratings stored in the running local stack's DynamoDB Local, newest first.

A scan, which is fine for a demo table and never done by the app.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from boto3.dynamodb.types import TypeDeserializer

from devtools import dynamodb_local

LOCAL = Path(os.environ.get("STOREPULSE_LOCAL_DIR", dynamodb_local.ROOT / ".local"))


def main() -> None:
    demo = json.loads((LOCAL / "demo.json").read_text())
    ddb = dynamodb_local.client(demo["dynamodb_endpoint"])
    items = []
    for page in ddb.get_paginator("scan").paginate(
        TableName=demo["table_name"],
        FilterExpression="begins_with(pk, :rating)",
        ExpressionAttributeValues={":rating": {"S": "RATING#"}},
    ):
        items += [
            {k: TypeDeserializer().deserialize(v) for k, v in i.items()} for i in page["Items"]
        ]
    items.sort(key=lambda item: item["received_at"], reverse=True)
    print(f"{len(items)} ratings in {demo['table_name']} at {demo['dynamodb_endpoint']}")
    for item in items[:20]:
        reasons = ",".join(item.get("reasons", [])) or "-"
        print(
            f"{item['received_at']}  {item['store_id']:<14} {item['channel']:<6} "
            f"score {item['score']}  reasons {reasons:<20} {item['pk'].removeprefix('RATING#')}"
        )


if __name__ == "__main__":
    main()
