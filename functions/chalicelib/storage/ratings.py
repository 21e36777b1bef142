"""Ratings: one item each, plus its entry in the `arrivals` index. A rating is written once
and changed only twice at most, by the scheduled run: its callback contact moves to a task,
and it may be marked a repeat press (`burst`, which its index entry projects).

Key formats
  item:     pk = RATING#<rating_id>, sk = RATING
  arrivals: gsi1pk = ARRIVAL#<received hour, UTC, YYYY-MM-DDTHH>#<shard>,
            gsi1sk = <received_at ISO-8601 UTC>#<rating_id>
The arrivals index is how aggregation reads "what arrived since the last run" with a few
Queries instead of a scan. Its projection (infra/resources.yaml) carries only what
aggregation and flagging need, so an index entry stays under one write unit.

This is the ingest hot path: the item is built in DynamoDB's wire format directly and
carries no attribute it can derive (the rating id is in the key).
"""

from __future__ import annotations

import zlib
from datetime import datetime
from typing import TYPE_CHECKING, Any, NotRequired, TypedDict, cast

from botocore.exceptions import ClientError

from ..domain.ratings import Rating
from .dynamodb import (
    client,
    error_code,
    from_item,
    put_if,
    query_all,
    raw_item,
    table_name,
    to_item,
    transact,
    unavailable_on_failure,
    utc_hour,
    utc_iso,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

# Spreads one hour's arrivals over this many index partitions. Readers query every shard,
# so changing it needs a migration of the unread hours: keep it fixed.
ARRIVAL_SHARDS = 4
_PREFIX = "RATING#"
WRITE_ONCE = "attribute_not_exists(pk)"  # put_rating's condition (the ingest benchmark's too)
_INDEX_KEYS = ("pk", "sk", "gsi1pk", "gsi1sk")  # what an index entry holds besides its rating


class ArrivedRating(TypedDict):
    """A rating as the arrivals index projects it (what aggregation and flagging read). A
    mapping, not a model: a run reads them by the ten thousand, and the domain's tallies
    take mappings."""

    rating_id: str
    store_id: str
    channel: str
    source_id: str  # the kiosk id, or the SMS conversation id
    survey_id: str
    score: int
    tapped_at: str  # ISO-8601 UTC, as stored
    received_at: str
    reasons: NotRequired[list[str]]
    expectation: NotRequired[str]
    callback_requested: NotRequired[bool]  # its contact waits for the callback job
    burst: NotRequired[bool]


def _key(rating_id: str) -> dict[str, str]:
    return {"pk": f"{_PREFIX}{rating_id}", "sk": "RATING"}


def _arrival_partition(received_hour: str, shard: int) -> str:
    return f"ARRIVAL#{received_hour}#{shard}"


def rating_item(rating: Rating) -> dict[str, Any]:
    """The rating's item in DynamoDB's wire format, index keys included, as `put_rating`
    writes it (benchmarks load tables with it)."""
    received_at = utc_iso(rating.received_at, "milliseconds")
    shard = zlib.crc32(rating.rating_id.encode()) % ARRIVAL_SHARDS
    item: dict[str, Any] = {
        "pk": {"S": f"{_PREFIX}{rating.rating_id}"},
        "sk": {"S": "RATING"},
        "gsi1pk": {"S": _arrival_partition(utc_hour(rating.received_at), shard)},
        "gsi1sk": {"S": f"{received_at}#{rating.rating_id}"},
        "store_id": {"S": rating.store_id},
        "channel": {"S": rating.channel},
        "source_id": {"S": rating.source_id},
        "survey_id": {"S": rating.survey_id},
        "score": {"N": str(rating.score)},
        "locale": {"S": rating.locale},
        "tapped_at": {"S": utc_iso(rating.tapped_at, "milliseconds")},
        "received_at": {"S": received_at},
        "clock_skew_ms": {"N": str(rating.clock_skew_ms)},
    }
    if rating.reasons:
        item["reasons"] = {"L": [{"S": reason} for reason in rating.reasons]}
    if rating.comment:
        item["comment"] = {"S": rating.comment}
    if rating.expectation:
        item["expectation"] = {"S": rating.expectation}
    if rating.burst:
        item["burst"] = {"BOOL": True}
    if rating.contact:
        # Held only until the callback job copies it into a task (which expires by TTL).
        item["callback_requested"] = {"BOOL": True}
        item["contact"] = to_item({"contact": rating.contact.model_dump(exclude_none=True)})[
            "contact"
        ]
    return item


def rating_from_item(item: dict[str, Any]) -> Rating:
    values = from_item(item)
    return Rating.model_validate(values | {"rating_id": str(values["pk"]).removeprefix(_PREFIX)})


def put_rating(rating: Rating) -> bool:
    """Store a rating once. True if stored, False if that rating_id is already stored.

    The write is conditional on the key not existing, so a retried batch (same client-made
    rating_id) can never count twice, and no read is needed first.
    """
    return put_if(rating_item(rating), WRITE_ONCE)


def get_rating(rating_id: str) -> Rating | None:
    """A stored rating by id (strongly consistent), or None."""
    with unavailable_on_failure():
        response = client().get_item(
            TableName=table_name(), Key=to_item(_key(rating_id)), ConsistentRead=True
        )
    return rating_from_item(response["Item"]) if "Item" in response else None


def arrivals(hour: datetime) -> list[ArrivedRating]:
    """Every rating that arrived in this UTC hour, as the arrivals index projects it."""
    items: list[dict[str, Any]] = []
    for shard in range(ARRIVAL_SHARDS):
        items.extend(
            query_all(
                IndexName="arrivals",
                KeyConditionExpression="gsi1pk = :partition",
                ExpressionAttributeValues=to_item(
                    {":partition": _arrival_partition(utc_hour(hour), shard)}
                ),
            )
        )
    for item in items:
        item["rating_id"] = str(item["pk"]).removeprefix(_PREFIX)
        item["score"] = int(item["score"])
        for name in _INDEX_KEYS:
            del item[name]
    return cast(list[ArrivedRating], items)


def strip_contact(rating_id: str) -> None:
    """A task has the callback number now: the rating keeps none (and no longer asks for a
    call, so flagging does not see it again)."""
    with unavailable_on_failure():
        client().update_item(
            TableName=table_name(),
            Key=to_item(_key(rating_id)),
            UpdateExpression="REMOVE contact, callback_requested",
        )


def mark_bursts(rating_ids: list[str]) -> None:
    """Mark stored ratings as repeat presses, as the aggregation run decided from their
    kiosks' taps. The flag only ever goes from unset to true, so marking again changes
    nothing. Up to 100 in a transaction (a run's cost here is round trips); where one is
    cancelled (a rating not stored: no item is created for it), one by one."""
    for index in range(0, len(rating_ids), 100):
        chunk = [_mark(rating_id) for rating_id in rating_ids[index : index + 100]]
        if len(chunk) > 1 and transact(chunk):
            continue
        for action in chunk:
            try:
                with unavailable_on_failure():
                    client().update_item(**action["Update"])
            except ClientError as error:
                if error_code(error) != "ConditionalCheckFailedException":
                    raise


def _mark(rating_id: str) -> dict[str, Any]:
    return {
        "Update": {
            "TableName": table_name(),
            "Key": to_item(_key(rating_id)),
            "UpdateExpression": "SET burst = :yes",
            "ConditionExpression": "attribute_exists(pk)",
            "ExpressionAttributeValues": to_item({":yes": True}),
        }
    }


def stored_rating(
    rating_id: str, *, ddb: DynamoDBClient | None = None, table: str | None = None
) -> dict[str, Any] | None:
    """The rating's item exactly as stored, keys included (tests and devtools; `ddb` and
    `table`: another stack's)."""
    return raw_item(_key(rating_id), ddb=ddb, table=table)


def every_rating(*, ddb: DynamoDBClient | None = None, table: str | None = None) -> list[Rating]:
    """Every stored rating: a scan, for a demo table or a test's, never done by the app."""
    pages = (
        (ddb or client())
        .get_paginator("scan")
        .paginate(
            TableName=table or table_name(),
            FilterExpression="begins_with(pk, :rating)",
            ExpressionAttributeValues={":rating": {"S": _PREFIX}},
        )
    )
    return [rating_from_item(item) for page in pages for item in page["Items"]]
