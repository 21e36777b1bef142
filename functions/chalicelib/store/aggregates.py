"""Aggregates: per-store bucket tallies, written as partials that a re-run overwrites.

Key formats
  partial:    pk = AGG#<store_id>#<hour|day|week>,
              sk = <bucket start, UTC ISO-8601>#<arrival hour, UTC YYYY-MM-DDTHH>
              tally (map), seen (how many arrivals of that hour the tally was computed from)
  watermark:  pk = AGGREGATION, sk = WATERMARK; next_hour = the oldest arrival hour not final

Why a re-run cannot double count: a partial is a pure function of one arrival hour's
ratings (all of them, read again), never an increment. Writing it again replaces it; the
write is conditional on `seen` not shrinking, so of two overlapping runs the one that saw
more of a still-open hour wins, and a late, slower run cannot put an older view back.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from ..domain.aggregates import Granularity, Tally
from .dynamodb import (
    client,
    error_code,
    from_item,
    put_if,
    query_all,
    table_name,
    to_item,
    unavailable_on_failure,
)
from .ratings import ARRIVAL_SHARDS

_WATERMARK = {"pk": "AGGREGATION", "sk": "WATERMARK"}


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def hour_label(hour: datetime) -> str:
    return f"{hour.astimezone(UTC):%Y-%m-%dT%H}"


def arrivals(hour: datetime) -> list[dict[str, Any]]:
    """Every rating that arrived in this UTC hour, as the arrivals index projects it."""
    items: list[dict[str, Any]] = []
    for shard in range(ARRIVAL_SHARDS):
        items.extend(
            query_all(
                IndexName="arrivals",
                KeyConditionExpression="gsi1pk = :partition",
                ExpressionAttributeValues=to_item(
                    {":partition": f"ARRIVAL#{hour_label(hour)}#{shard}"}
                ),
            )
        )
    return items


def put_partial(
    store_id: str,
    granularity: Granularity,
    bucket_start: datetime,
    arrival_hour: datetime,
    tally: Tally,
    seen: int,
) -> bool:
    """Write one bucket's tally of one arrival hour; False if a fuller view is stored."""
    item = {
        "pk": f"AGG#{store_id}#{granularity}",
        "sk": f"{_iso(bucket_start)}#{hour_label(arrival_hour)}",
        "type": "aggregate_partial",
        "start": bucket_start.isoformat(),
        "tally": tally.model_dump(),
        "seen": seen,
    }
    return put_if(to_item(item), "attribute_not_exists(pk) OR seen <= :seen", {":seen": seen})


def bucket_tallies(
    store_id: str, granularity: Granularity, start: datetime, end: datetime
) -> dict[str, Tally]:
    """Summed tallies by bucket start (the store-local ISO start) for buckets in [start, end)."""
    items = query_all(
        KeyConditionExpression="pk = :pk AND sk BETWEEN :from AND :to",
        ExpressionAttributeValues=to_item(
            {
                ":pk": f"AGG#{store_id}#{granularity}",
                ":from": _iso(start),
                ":to": f"{_iso(end - timedelta(seconds=1))}#~",
            }
        ),
    )
    tallies: dict[str, Tally] = {}
    for item in items:
        tallies.setdefault(str(item["start"]), Tally()).merge(Tally.model_validate(item["tally"]))
    return tallies


def watermark() -> datetime | None:
    with unavailable_on_failure():
        response = client().get_item(
            TableName=table_name(), Key=to_item(_WATERMARK), ConsistentRead=True
        )
    if "Item" not in response:
        return None
    return datetime.fromisoformat(str(from_item(response["Item"])["next_hour"]))


def advance_watermark(past: datetime | None, to: datetime) -> bool:
    """Move the watermark from `past` to `to`; False if another run moved it already."""
    condition = "attribute_not_exists(pk)" if past is None else "next_hour = :past"
    values = {":to": _iso(to)} | ({":past": _iso(past)} if past else {})
    try:
        with unavailable_on_failure():
            client().update_item(
                TableName=table_name(),
                Key=to_item(_WATERMARK),
                UpdateExpression="SET next_hour = :to",
                ConditionExpression=condition,
                ExpressionAttributeValues=to_item(values),
            )
    except ClientError as error:
        if error_code(error) == "ConditionalCheckFailedException":
            return False
        raise
    return True


def delete_aggregates(store_ids: list[str]) -> int:
    """Remove every partial of these stores and the watermark (before a rebuild)."""
    removed = 0
    keys = [
        {"pk": item["pk"], "sk": item["sk"]}
        for store_id in store_ids
        for granularity in ("hour", "day", "week")
        for item in query_all(
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues=to_item({":pk": f"AGG#{store_id}#{granularity}"}),
            ProjectionExpression="pk, sk",
        )
    ] + [_WATERMARK]
    with unavailable_on_failure():
        for index in range(0, len(keys), 25):
            chunk = [{"DeleteRequest": {"Key": to_item(k)}} for k in keys[index : index + 25]]
            pending: Any = {table_name(): chunk}
            while pending:
                pending = client().batch_write_item(RequestItems=pending).get("UnprocessedItems")
            removed += len(chunk)
    return removed


def claim_alert(store_id: str, granularity: str, bucket_start: datetime) -> bool:
    """Mark a store alert as raised; False if it was raised before (alerts go out once)."""
    item = {
        "pk": f"ALERTS#{store_id}",
        "sk": f"{granularity}#{_iso(bucket_start)}",
        "type": "alert",
        "raised_at": _iso(datetime.now(UTC)),
    }
    return put_if(to_item(item), "attribute_not_exists(pk)")


def release_alert(store_id: str, granularity: str, bucket_start: datetime) -> None:
    """Forget a claimed alert whose message could not be sent (the next run tries again)."""
    key = {"pk": f"ALERTS#{store_id}", "sk": f"{granularity}#{_iso(bucket_start)}"}
    with unavailable_on_failure():
        client().delete_item(TableName=table_name(), Key=to_item(key))
