"""The rating log: which ratings of a store were tapped in which hour, so that an export
reads a store's ratings by tap time without a scan. The aggregation run writes it, since it
reads every new rating anyway (a third write unit per rating at ingest is over budget, and
the arrivals index is by arrival hour, across stores).

Key format
  log: pk = RATINGLOG#<store_id>,
       sk = <tapped hour, UTC YYYY-MM-DDTHH>#<arrival slice, UTC YYYY-MM-DDTHH:MM>#<part>
       ratings (string set of "<tapped_at>|<rating_id>", tapped_at as stored: ISO-8601
       UTC to the millisecond), type = rating_log
One item per store, tapped hour and arrival slice (`part` 0; a slice with more than
LOG_ENTRIES of one store's tapped hour spreads them over parts by a hash of the entry),
so one store's items sort by tapped hour and a period is one Query of one partition.

Why ADD to a set: the log is written again whenever a slice is read again (a retried or
overlapping run, the open slice read by each run until it is final, a rebuild). A set union
of the same entries changes nothing, so no run can log a rating twice; an entry that
landed in two parts (a slice that grew past LOG_ENTRIES between two reads) is read once,
since a reader merges a tapped hour's items into one set.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from .dynamodb import (
    client,
    table_name,
    to_item,
    transact_all,
    unavailable_on_failure,
    utc_hour,
    utc_iso,
)

# Entries of one item, about (parts are by hash): 62 bytes each, far below DynamoDB's 400 KB
# item limit, and a transaction of 100 full ones stays under its 4 MB request limit.
LOG_ENTRIES = 500
# Log items a page of the reading Query holds: a page's memory is bounded whatever the store.
READ_PAGE_ITEMS = 100


class LoggedRating(NamedTuple):
    """One entry of the log: orders by tap time, then rating id (the export's row order)."""

    tapped_at: str  # ISO-8601 UTC to the millisecond, as the rating item stores it
    rating_id: str


def _pk(store_id: str) -> str:
    return f"RATINGLOG#{store_id}"


def _entry(rating: LoggedRating) -> str:
    return f"{rating.tapped_at}|{rating.rating_id}"


def log_ratings(arrival_slice: datetime, by_store: dict[str, list[LoggedRating]]) -> None:
    """Add these ratings (by store), arrived in the slice starting at `arrival_slice`, to
    their stores' logs: the writes need no condition, and sent again they change nothing."""
    transact_all(
        [
            action
            for store_id, logged in sorted(by_store.items())
            for action in log_writes(store_id, arrival_slice, logged)
        ]
    )


def log_writes(
    store_id: str, arrival_slice: datetime, logged: Iterable[LoggedRating]
) -> list[dict[str, Any]]:
    """The writes that add one store's ratings of one arrival slice to its log: one per
    tapped hour (and part)."""
    by_hour: dict[str, list[str]] = {}
    for rating in logged:
        hour = utc_hour(datetime.fromisoformat(rating.tapped_at))
        by_hour.setdefault(hour, []).append(_entry(rating))
    slice_label = f"{arrival_slice:%Y-%m-%dT%H:%M}"
    actions = []
    for hour, entries in sorted(by_hour.items()):
        parts = -(-len(entries) // LOG_ENTRIES)
        split: dict[int, set[str]] = {}
        for entry in entries:
            part = zlib.crc32(entry.encode()) % parts if parts > 1 else 0
            split.setdefault(part, set()).add(entry)
        actions += [
            _add(store_id, f"{hour}#{slice_label}#{part}", values)
            for part, values in sorted(split.items())
        ]
    return actions


def _add(store_id: str, sk: str, entries: set[str]) -> dict[str, Any]:
    return {
        "Update": {
            "TableName": table_name(),
            "Key": to_item({"pk": _pk(store_id), "sk": sk}),
            "UpdateExpression": "SET #type = :type ADD ratings :entries",
            "ExpressionAttributeNames": {"#type": "type"},
            "ExpressionAttributeValues": to_item({":type": "rating_log", ":entries": entries}),
        }
    }


def logged_ratings(
    store_id: str, start: datetime, end: datetime, after: LoggedRating | None = None
) -> Iterator[LoggedRating]:
    """The store's logged ratings tapped in [start, end) and after `after` (a page's last),
    in order: read a page of log items at a time, one tapped hour held in memory at once."""
    first = utc_hour(datetime.fromisoformat(after.tapped_at) if after else start)
    last = utc_hour(end - timedelta(microseconds=1))
    low, high = utc_iso(start, "milliseconds"), utc_iso(end, "milliseconds")
    hour: str | None = None
    held: set[LoggedRating] = set()
    for item in _log_items(store_id, first, last):
        item_hour = str(item["sk"]["S"]).split("#", 1)[0]
        if item_hour != hour:
            yield from _in_range(held, low, high, after)
            hour, held = item_hour, set()
        held.update(
            LoggedRating(*entry.split("|", 1)) for entry in item.get("ratings", {}).get("SS", ())
        )
    yield from _in_range(held, low, high, after)


def _in_range(
    held: set[LoggedRating], low: str, high: str, after: LoggedRating | None
) -> list[LoggedRating]:
    return sorted(
        rating
        for rating in held
        if low <= rating.tapped_at < high and (after is None or rating > after)
    )


def _log_items(store_id: str, first_hour: str, last_hour: str) -> Iterator[dict[str, Any]]:
    """The log items of these tapped hours, in key order, in DynamoDB's wire format: the
    Query's pages one at a time (only the page being read is held)."""
    request: dict[str, Any] = {
        "TableName": table_name(),
        "KeyConditionExpression": "pk = :pk AND sk BETWEEN :from AND :to",
        "ExpressionAttributeValues": to_item(
            {":pk": _pk(store_id), ":from": first_hour, ":to": f"{last_hour}#~"}
        ),
        "Limit": READ_PAGE_ITEMS,
    }
    while True:
        with unavailable_on_failure():
            response = client().query(**request)
        yield from response.get("Items", [])
        if "LastEvaluatedKey" not in response:
            return
        request["ExclusiveStartKey"] = response["LastEvaluatedKey"]
