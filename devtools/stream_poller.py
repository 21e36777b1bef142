"""What Lambda's event source mapping does with the table's stream in AWS, done locally: read
every shard of the stream (DynamoDB Local's, or moto's), keep the records that the deployed
filter (infra/resources.yaml, FlagCallbacks) lets through, and hand them in batches to the
same handler (`app.flag_callbacks`). A batch item the handler reports failed is delivered
again, from that item on, up to the deployed retry count, as Lambda does; then it is left to
the scheduled run, which flags what the stream did not.
"""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

import boto3

from devtools import dynamodb_local

FUNCTION = "FlagCallbacks"  # the function's resource in infra/resources.yaml
BATCH_SIZE = 10  # app.flag_callbacks's batch_size
POLL_S = 0.25  # Lambda polls a DynamoDB stream's shards four times a second

Invoke = Callable[[list[dict[str, Any]]], dict[str, Any] | None]


def deployed_settings() -> dict[str, Any]:
    """The event source mapping's settings, as infra/resources.yaml deploys them."""
    events = dynamodb_local.template_resources()[FUNCTION]["Properties"]["Events"]
    (source,) = events.values()
    return dict(source["Properties"])


def deployed_filters() -> list[dict[str, Any]]:
    """The mapping's filter patterns, parsed."""
    filters = deployed_settings()["FilterCriteria"]["Filters"]
    return [json.loads(entry["Pattern"]) for entry in filters]


def matches(pattern: dict[str, Any], data: Any) -> bool:
    """Lambda's event filtering, for what our patterns use: nested fields, a list of allowed
    values, and `prefix`. Anything else is refused, so a pattern this cannot check fails
    loudly here instead of letting every record through."""
    if not isinstance(data, dict):
        return False
    for field, wanted in pattern.items():
        if field not in data:
            return False
        if isinstance(wanted, dict):
            if not matches(wanted, data[field]):
                return False
        elif not any(_allowed(rule, data[field]) for rule in wanted):
            return False
    return True


def _allowed(rule: Any, value: Any) -> bool:
    if isinstance(rule, dict):
        ((operator, argument),) = rule.items()
        if operator != "prefix":
            raise ValueError(f"filter operator {operator!r} is not supported locally")
        return isinstance(value, str) and value.startswith(argument)
    return bool(rule == value)


class StreamPoller(threading.Thread):
    """Polls the table's stream and invokes `invoke` with each batch of matching records."""

    def __init__(self, table: str, endpoint: str | None, invoke: Invoke) -> None:
        super().__init__(daemon=True)
        self.table, self.invoke = table, invoke
        self.ddb = dynamodb_local.client(endpoint)
        self.streams = boto3.client(
            "dynamodbstreams", endpoint_url=endpoint, region_name="us-east-1"
        )
        self.filters = deployed_filters()
        self.max_retries = int(deployed_settings()["MaximumRetryAttempts"])
        self.stopped = threading.Event()
        self.stream_arn = self.ddb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
        self.iterators: dict[str, str] = {}
        self.closed: set[str] = set()
        self.waiting: dict[str, tuple[list[dict[str, Any]], int]] = {}  # shard: records, tries
        # Shards open now are read from their end (LATEST, as the mapping starts); shards
        # that open later, from their start.
        self._open_shards("LATEST")

    def run(self) -> None:
        while not self.stopped.wait(POLL_S):
            try:
                self.poll()
            except Exception as error:  # a poll that failed is tried again, as Lambda does
                print(f"stream poll failed: {error}", file=sys.stderr)

    def poll(self) -> int:
        """One pass over every shard; the number of records delivered."""
        self._open_shards("TRIM_HORIZON")
        delivered = 0
        for shard in {*self.iterators, *self.waiting}:
            records, tries = self.waiting.pop(shard, ([], 0))
            iterator = self.iterators.get(shard)
            if not records and iterator:
                response = self.streams.get_records(ShardIterator=iterator, Limit=1000)
                records = [lambda_record(r, self.stream_arn) for r in response["Records"]]
                records = [r for r in records if any(matches(p, r) for p in self.filters)]
                following = response.get("NextShardIterator")
                if following:
                    self.iterators[shard] = following
                else:
                    del self.iterators[shard]
                    self.closed.add(shard)
            delivered += self._deliver(shard, records, tries)
        return delivered

    def _deliver(self, shard: str, records: list[dict[str, Any]], tries: int) -> int:
        for start in range(0, len(records), BATCH_SIZE):
            batch = records[start : start + BATCH_SIZE]
            try:
                failures = (self.invoke(batch) or {}).get("batchItemFailures", [])
            except Exception as error:
                print(f"stream batch failed: {error}", file=sys.stderr)
                failures = [{"itemIdentifier": batch[0]["dynamodb"]["SequenceNumber"]}]
            if failures:
                first = min(int(f["itemIdentifier"]) for f in failures)
                rest = [r for r in records[start:] if int(r["dynamodb"]["SequenceNumber"]) >= first]
                if tries < self.max_retries:
                    self.waiting[shard] = (rest, tries + 1)
                else:
                    print(f"stream: {len(rest)} records left to the schedule", file=sys.stderr)
                return start + len(batch) - len(rest)
        return len(records)

    def _open_shards(self, position: str) -> None:
        description = self.streams.describe_stream(StreamArn=self.stream_arn)
        for shard in description["StreamDescription"]["Shards"]:
            shard_id = shard["ShardId"]
            if shard_id in self.iterators or shard_id in self.closed:
                continue
            self.iterators[shard_id] = self.streams.get_shard_iterator(
                StreamArn=self.stream_arn, ShardId=shard_id, ShardIteratorType=position
            )["ShardIterator"]


def lambda_record(record: dict[str, Any], stream_arn: str) -> dict[str, Any]:
    """A GetRecords record as Lambda's event carries it (its source ARN added; the time as
    epoch seconds, where boto3 parsed it into a datetime)."""
    stream = dict(record["dynamodb"])
    created = stream.get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        stream["ApproximateCreationDateTime"] = created.timestamp()
    return {**record, "dynamodb": stream, "eventSourceARN": stream_arn}


def chalice_invoker() -> Invoke:
    """Invokes `app.flag_callbacks` through Chalice's own Lambda test harness."""
    from chalice.test import Client

    from app import app

    client = Client(app)

    def invoke(records: list[dict[str, Any]]) -> dict[str, Any] | None:
        payload = client.lambda_.invoke("flag_callbacks", {"Records": records}).payload
        return payload if isinstance(payload, dict) else None

    return invoke
