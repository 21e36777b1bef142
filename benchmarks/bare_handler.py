"""The baseline for the ingest benchmark: a bare Lambda handler doing the least possible work.

It parses the API Gateway proxy event's body and does one boto3 PutItem per rating, then
answers 200. It puts the items our app stores for those ratings, keys and index entry
included, so DynamoDB Local does the same work for both: the benchmark builds them with our
storage layer before the clock starts and hands them over in the event (`items`, and
`condition`, the one our app writes a rating with), so this module imports nothing of the
app and knows no key format. No validation, auth, logging or metrics: the gap to it is what
our app costs.

`handler` makes the put conditional on the key being new, as any ingest that honours
the contract's "a retry never counts twice" must (DynamoDB Local spends ~0.2 ms evaluating
it); `handler_unconditional` is the plain put, reported beside it for transparency.
"""

from __future__ import annotations

import json
import os
from typing import Any

import boto3

_TABLE = os.environ["STOREPULSE_TABLE_NAME"]
_client = boto3.client(
    "dynamodb",
    region_name=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
    endpoint_url=os.environ.get("STOREPULSE_DYNAMODB_ENDPOINT"),
)


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return _put_all(event, {"ConditionExpression": event["condition"]})


def handler_unconditional(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return _put_all(event, {})


def _put_all(event: dict[str, Any], condition: dict[str, str]) -> dict[str, Any]:
    batch = json.loads(event["body"])
    results = []
    for rating, item in zip(batch["ratings"], event["items"], strict=True):
        _client.put_item(TableName=_TABLE, Item=item, **condition)
        results.append({"rating_id": rating["rating_id"], "status": "stored"})
    return {
        "statusCode": 200,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps({"results": results}),
    }
