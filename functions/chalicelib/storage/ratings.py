"""Ratings: one item each, plus its entry in the `arrivals` index. A rating is written once
and changed only twice at most, by the scheduled run: its callback contact moves to a task,
and it may be marked a repeat press (`burst`, which its index entry projects).

Key formats
  item:     pk = RATING#<rating_id>, sk = RATING
  arrivals: gsi1pk = ARRIVAL#<received hour, UTC, YYYY-MM-DDTHH>#<shard>,
            gsi1sk = <received_at ISO-8601 UTC>#<rating_id>[#same_visit]
The arrivals index is how aggregation reads "what arrived since the last run" with a few
Queries instead of a scan: a range of `gsi1sk` (an arrival slice) in every shard of the
hour. Its projection (infra/resources.yaml) carries only what aggregation and flagging need,
so an index entry stays under one write unit. A rating of a visit that another answer
counts for carries `#same_visit` at the end of its sort key: aggregation must see it to
leave it out, and an index's projection cannot change in place (it would take a new index).

This is the ingest hot path: the item is built in DynamoDB's wire format directly and
carries no attribute it can derive (the rating id is in the key).
"""

from __future__ import annotations

import math
import random
import time
import zlib
from datetime import datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Any, NotRequired, TypedDict, cast

from botocore.exceptions import ClientError

from ..domain.ratings import Rating
from ..errors import DependencyUnavailable
from .dynamodb import (
    batch_get_all,
    client,
    error_code,
    from_item,
    in_parallel,
    put_if,
    query_scanned,
    raw_item,
    table_name,
    to_item,
    transact,
    unavailable_on_failure,
    utc_hour,
    utc_iso,
)

if TYPE_CHECKING:
    from concurrent.futures import ThreadPoolExecutor

    from mypy_boto3_dynamodb import DynamoDBClient

# Spreads one hour's arrivals over this many index partitions, sized from the peak arrival
# rate the chain must take (docs/data-model.md, "Hot partitions"): a fleet of kiosks
# reconnecting after an outage, every request a batch of 100 at the API stage's throttle
# (100 requests/s), is 10,000 ratings/s; each index entry is 1 write unit and a partition
# takes 1,000 write units/s, so 10 partitions at least, and half as many again for an
# uneven spread and the ratings of a late offline batch: 15 (a ceiling of 15,000/s).
# Readers query shards 0 to ARRIVAL_SHARDS - 1, so the count may grow (an entry written
# with fewer shards is in one of the first ones) but never shrink while unread hours hold
# entries of a larger count.
ARRIVAL_PEAK_PER_S = 10_000
PARTITION_WCU_PER_S = 1_000
ARRIVAL_SHARDS = math.ceil(1.5 * ARRIVAL_PEAK_PER_S / PARTITION_WCU_PER_S)
# Entries a page of one shard's Query holds (about 300 KB): a full 1 MB page of a chain's
# slice took DynamoDB Local more than the client's 2 s read timeout on a busy machine.
ARRIVALS_PAGE = 1_000
SHARD_ATTEMPTS = 3  # tries of one shard's Query, beyond the client's own retries
SHARD_BACKOFF_S = 0.1
_PREFIX = "RATING#"
WRITE_ONCE = "attribute_not_exists(pk)"  # put_rating's condition (the ingest benchmark's too)
_INDEX_KEYS = ("pk", "sk", "gsi1pk", "gsi1sk")  # what an index entry holds besides its rating
_SAME_VISIT = "#same_visit"  # the end of a same-visit rating's arrivals sort key


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
    same_visit: NotRequired[bool]  # another answer of its visit counts


def _key(rating_id: str) -> dict[str, str]:
    return {"pk": f"{_PREFIX}{rating_id}", "sk": "RATING"}


def rating_id_of(key: dict[str, Any]) -> str | None:
    """The rating id of an item's key (a stream record's), or None if it is not a rating's."""
    pk, sk = str(key.get("pk", "")), key.get("sk")
    return pk.removeprefix(_PREFIX) if pk.startswith(_PREFIX) and sk == "RATING" else None


def _arrival_partition(received_hour: str, shard: int) -> str:
    return f"ARRIVAL#{received_hour}#{shard}"


def rating_item(rating: Rating) -> dict[str, Any]:
    """The rating's item in DynamoDB's wire format, index keys included, as `put_rating`
    writes it (benchmarks load tables with it)."""
    received_at = utc_iso(rating.received_at, "milliseconds")
    shard = zlib.crc32(rating.rating_id.encode()) % ARRIVAL_SHARDS
    mark = _SAME_VISIT if rating.same_visit else ""
    item: dict[str, Any] = {
        "pk": {"S": f"{_PREFIX}{rating.rating_id}"},
        "sk": {"S": "RATING"},
        "gsi1pk": {"S": _arrival_partition(utc_hour(rating.received_at), shard)},
        "gsi1sk": {"S": f"{received_at}#{rating.rating_id}{mark}"},
        "store_id": {"S": rating.store_id},
        "channel": {"S": rating.channel},
        "source_id": {"S": rating.source_id},
        "survey_id": {"S": rating.survey_id},
        "survey_version": {"N": str(rating.survey_version)},
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
    if rating.visit_ref:
        item["visit_ref"] = {"S": rating.visit_ref}
    if rating.same_visit:
        item["same_visit"] = {"BOOL": True}
    if rating.contact:
        # Held only until the callback job copies it into a task (which expires by TTL).
        item["callback_requested"] = {"BOOL": True}
        item["contact"] = to_item({"contact": rating.contact.model_dump(exclude_none=True)})[
            "contact"
        ]
    return item


def rating_from_item(item: dict[str, Any]) -> Rating:
    return _stored(from_item(item))


def put_rating(rating: Rating) -> bool:
    """Store a rating once. True if stored, False if that rating_id is already stored.

    The write is conditional on the key not existing, so a retried batch (same client-made
    rating_id) can never count twice, and no read is needed first. A rating of a visit is
    passed through `visits.counted` first.
    """
    return put_if(rating_item(rating), WRITE_ONCE)


def get_rating(rating_id: str) -> Rating | None:
    """A stored rating by id (strongly consistent), or None."""
    with unavailable_on_failure():
        response = client().get_item(
            TableName=table_name(), Key=to_item(_key(rating_id)), ConsistentRead=True
        )
    return rating_from_item(response["Item"]) if "Item" in response else None


def ratings_by_id(rating_ids: list[str]) -> dict[str, Rating]:
    """The stored ratings of these ids, by id (those that exist): BatchGetItem of 100 keys,
    BATCHES_IN_FLIGHT at once, strongly consistent, so a later change (a repeat-press mark,
    a contact moved to a task) shows."""
    items = batch_get_all([to_item(_key(rating_id)) for rating_id in rating_ids])
    return {rating.rating_id: rating for rating in map(_stored, items)}


def _stored(values: dict[str, Any]) -> Rating:
    """A rating from its item as `from_item` reads it."""
    return Rating.model_validate(values | {"rating_id": str(values["pk"]).removeprefix(_PREFIX)})


def arrivals(start: datetime, end: datetime) -> list[ArrivedRating]:
    """Every rating received in [start, end) (within one UTC hour), as the arrivals index
    projects it: one Query per shard, run side by side (the shards are separate
    partitions, and the run waits on round trips)."""
    return _arrivals(start, end, None)[0]


def store_arrivals(
    start: datetime, end: datetime, store_ids: set[str]
) -> tuple[list[ArrivedRating], int]:
    """The ratings of these stores received in [start, end), and how many of every store
    were: a filter on the same Queries (the index is read as much, a fraction of it is
    sent back and parsed)."""
    return _arrivals(start, end, sorted(store_ids))


def store_had_arrivals(store_id: str, start: datetime, end: datetime) -> bool:
    """Whether any rating of the store was received in [start, end), of any length: the
    hours' reads (each a filtered Query per shard) side by side. Meant for minutes to a few
    hours (a read of a whole hour of the chain's arrivals each)."""
    hours: list[tuple[datetime, datetime]] = []
    while start < end:  # an arrivals read lies within one UTC hour
        hour_end = start.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
        hours.append((start, min(hour_end, end)))
        start = hours[-1][1]
    found = in_parallel(lambda hour: bool(store_arrivals(*hour, {store_id})[0]), hours)
    return any(found)


def _arrivals(
    start: datetime, end: datetime, wanted: list[str] | None
) -> tuple[list[ArrivedRating], int]:
    hour = utc_hour(start)
    if end - start > timedelta(hours=1) or utc_hour(end - timedelta(microseconds=1)) != hour:
        raise ValueError("an arrival range lies within one UTC hour")
    # gsi1sk = "<received_at>#<rating_id>": the bare time strings bound it, the end excluded
    # (an entry received exactly at `end` sorts after `end` itself).
    bounds = {
        ":from": utc_iso(start, "milliseconds"),
        ":to": utc_iso(end, "milliseconds"),
    }

    # An IN list takes up to 100 values: a Query per shard and hundred stores.
    groups = [None] if wanted is None else [wanted[i : i + 100] for i in range(0, len(wanted), 100)]

    def query(number: int, group: list[str] | None) -> tuple[list[dict[str, Any]], int]:
        values = {":partition": _arrival_partition(hour, number)} | bounds
        extra: dict[str, Any] = {}
        if group is not None:
            names = [f":store{index}" for index in range(len(group))]
            values |= dict(zip(names, group, strict=True))
            extra["FilterExpression"] = f"store_id IN ({', '.join(names)})"
        return query_scanned(
            IndexName="arrivals",
            KeyConditionExpression="gsi1pk = :partition AND gsi1sk BETWEEN :from AND :to",
            Limit=ARRIVALS_PAGE,
            ExpressionAttributeValues=to_item(values),
            **extra,
        )

    def shard(request: tuple[int, list[str] | None]) -> tuple[list[dict[str, Any]], int]:
        # One failed Query of ARRIVAL_SHARDS would fail the whole read (and the run): a
        # read is safe to repeat, so a shard is asked again after a pause, a few times.
        for attempt in range(SHARD_ATTEMPTS - 1):
            try:
                return query(*request)
            except DependencyUnavailable:
                time.sleep(random.uniform(0, SHARD_BACKOFF_S * 2**attempt))  # noqa: S311
        return query(*request)

    requests = [(number, group) for number in range(ARRIVAL_SHARDS) for group in groups]
    answers = list(_pool().map(shard, requests))
    # Each group's Queries match every entry of the range: count one group's.
    seen = sum(
        scanned
        for (_, group), (_, scanned) in zip(requests, answers, strict=True)
        if group is groups[0]
    )
    return [_arrived(item) for found, _ in answers for item in found], seen


def _arrived(item: dict[str, Any]) -> ArrivedRating:
    """An index entry, from the wire format, as aggregation reads it. Its attributes' types
    are known (strings, the score, the reasons' list, flags): read straight, since a run
    reads them by the ten thousand and boto3's deserialiser (a Decimal for every number,
    a type check for every value) cost more than the Query did."""
    rating: dict[str, Any] = {"rating_id": item["pk"]["S"].removeprefix(_PREFIX)}
    if item["gsi1sk"]["S"].endswith(_SAME_VISIT):
        rating["same_visit"] = True
    for name, value in item.items():
        if name in _INDEX_KEYS:
            continue
        if "S" in value:
            rating[name] = value["S"]
        elif "N" in value:
            rating[name] = int(value["N"])
        elif "BOOL" in value:
            rating[name] = value["BOOL"]
        elif "L" in value and all("S" in entry for entry in value["L"]):
            rating[name] = [entry["S"] for entry in value["L"]]
        else:
            rating[name] = from_item({name: value})[name]
    return cast(ArrivedRating, rating)


@lru_cache(maxsize=1)
def _pool() -> ThreadPoolExecutor:
    """Threads for the shards' Queries, made on first use and kept by the container (the
    client is thread-safe); imported here, off the ingest path's cold start."""
    from concurrent.futures import ThreadPoolExecutor

    return ThreadPoolExecutor(max_workers=8, thread_name_prefix="arrivals")


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
