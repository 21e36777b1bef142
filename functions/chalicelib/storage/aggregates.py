"""Aggregates: per-store bucket tallies, written as partials that a re-run overwrites, and
what the runs keep to decide repeat presses across requests, hours and runs.

Key formats
  partial:    pk = AGG#<store_id>#<hour|day|week>,
              sk = <bucket start, UTC ISO-8601>#<arrival hour, UTC YYYY-MM-DDTHH>
              s<MM> (map): the tally of the bucket's ratings that arrived in the slice of
              that hour starting at minute MM, with `seen` (how many arrivals of the slice
              it was computed from); one attribute per slice, so a bucket has one partial
              per arrival hour, as before slices. (Partials written before slices held one
              `tally` and `seen` for the whole hour: read as one more slice, and dropped by
              the first slice written to them.)
  watermark:  pk = AGGREGATION, sk = WATERMARK; next_slice = the oldest arrival slice not
              final (next_hour: the hour before slices, read when next_slice is missing)
  tap log:    pk = TAPS#<store_id>#<kiosk_id>, sk = <tapped hour, UTC YYYY-MM-DDTHH>
              taps (string set of "<tapped_at>|<arrival slice>|<rating_id>", the slice as
              YYYY-MM-DDTHH:MM, or YYYY-MM-DDTHH: an arrival hour, logged before slices),
              bursts (string set of the rating ids marked as repeat presses), expires_at
  merged:     pk = MERGED#<arrival slice, YYYY-MM-DDTHH:MM>, sk = <store_id>#<kiosk_id>;
              merged = how many of that kiosk's arrivals of that slice are in its tap log
  store alert: pk = ALERTS#<store_id>, sk = COOLDOWN; raised_at, quiet_until, covered_until

Why a re-run cannot double count: a slice's tally is a pure function of one arrival slice's
ratings (all of them, read again), never an increment. Writing it again replaces it; the
write is conditional on neither its `seen` nor its `filtered` shrinking: arrivals only grow
and a rating is only ever marked a repeat press, never unmarked, so of two overlapping runs
the one that saw more wins, and a late, slower run cannot put an older view back.

The tap log and the merged counts only ever grow (ADD to sets; a lower count written by a
slower run only makes the next run merge again), so retries and overlapping runs can do no
harm with them.
"""

from __future__ import annotations

import random
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from ..config import settings
from ..domain.aggregates import Granularity, Tally
from ..domain.ratings import MAX_TAP_AGE
from ..errors import DependencyUnavailable
from .dynamodb import (
    client,
    error_code,
    from_item,
    query_all,
    table_name,
    to_item,
    transact,
    unavailable_on_failure,
    utc_hour,
    utc_iso,
)

_WATERMARK = {"pk": "AGGREGATION", "sk": "WATERMARK"}


def _iso(moment: datetime) -> str:
    # Partials, the watermark and alert states are to the second.
    return utc_iso(moment, "seconds")


def hour_label(hour: datetime) -> str:
    """An arrival or tapped hour as the keys here spell it (UTC, YYYY-MM-DDTHH)."""
    return utc_hour(hour)


def slice_label(start: datetime) -> str:
    """An arrival slice as the keys here spell it (its start, UTC, YYYY-MM-DDTHH:MM)."""
    return f"{start.astimezone(UTC):%Y-%m-%dT%H:%M}"


_SLICE_ATTRIBUTE = re.compile(r"s\d\d")


def put_partial(
    store_id: str,
    granularity: Granularity,
    bucket_start: datetime,
    arrival_slice: datetime,
    tally: Tally,
    seen: int,
) -> bool:
    """Write one bucket's tally of one arrival slice (its `seen` arrivals); False if a fuller
    view is stored (more arrivals seen, or more of them known to be repeat presses)."""
    arrived = arrival_slice.astimezone(UTC)
    names = {
        "#slice": f"s{arrived.minute:02d}",
        "#start": "start",
        "#type": "type",
        "#tally": "tally",
        "#seen": "seen",
    }
    try:
        with unavailable_on_failure():
            client().update_item(
                TableName=table_name(),
                Key=to_item(
                    {
                        "pk": f"AGG#{store_id}#{granularity}",
                        "sk": f"{_iso(bucket_start)}#{hour_label(arrived)}",
                    }
                ),
                # The whole-hour tally of a partial from before slices goes: this hour's
                # slices are being written from its first arrivals on.
                UpdateExpression="SET #slice = :slice, #start = :start, #type = :type "
                "REMOVE #tally, #seen",
                ConditionExpression="attribute_not_exists(#slice) OR "
                "(#slice.#seen <= :seen AND #slice.filtered <= :filtered)",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=to_item(
                    {
                        ":slice": tally.model_dump() | {"seen": seen},
                        ":start": bucket_start.isoformat(),
                        ":type": "aggregate_partial",
                        ":seen": seen,
                        ":filtered": tally.filtered,
                    }
                ),
            )
    except ClientError as error:
        if error_code(error) == "ConditionalCheckFailedException":
            return False
        raise
    return True


def bucket_tallies(
    store_id: str, granularity: Granularity, start: datetime, end: datetime
) -> dict[str, Tally]:
    """Summed tallies by bucket start (the store-local ISO start) for buckets in [start, end):
    every slice of every partial."""
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
        summed = tallies.setdefault(str(item["start"]), Tally())
        for name, value in item.items():
            if name == "tally" or _SLICE_ATTRIBUTE.fullmatch(name):
                summed.merge(Tally.model_validate(value))
    return tallies


def watermark() -> datetime | None:
    """The oldest arrival slice not final yet (None before the first run)."""
    with unavailable_on_failure():
        response = client().get_item(
            TableName=table_name(), Key=to_item(_WATERMARK), ConsistentRead=True
        )
    if "Item" not in response:
        return None
    item = from_item(response["Item"])
    return datetime.fromisoformat(str(item.get("next_slice") or item["next_hour"]))


def advance_watermark(past: datetime | None, to: datetime) -> bool:
    """Move the watermark from `past` to `to`; False if another run moved it elsewhere.

    Already at `to` counts as moved: when the answer to this write is lost (a 500 after
    the write, a dropped connection), the client's retry, or the next run's, finds its own
    write done and goes on, instead of taking it for another run's and stopping."""
    if past is None:
        condition = "attribute_not_exists(pk) OR next_slice = :to"
    else:
        # A watermark from before slices names an hour, which is that hour's first slice.
        condition = (
            "next_slice = :past OR next_slice = :to OR "
            "(attribute_not_exists(next_slice) AND next_hour = :past)"
        )
    values = {":to": _iso(to)} | ({":past": _iso(past)} if past else {})
    try:
        with unavailable_on_failure():
            client().update_item(
                TableName=table_name(),
                Key=to_item(_WATERMARK),
                UpdateExpression="SET next_slice = :to REMOVE next_hour",
                ConditionExpression=condition,
                ExpressionAttributeValues=to_item(values),
            )
    except ClientError as error:
        if error_code(error) == "ConditionalCheckFailedException":
            return False
        raise
    return True


def delete_partials(store_ids: list[str], arrived_from: datetime, buckets_from: datetime) -> int:
    """Remove these stores' partials of the arrival hours from `arrived_from` on (before a
    rebuild recomputes them); earlier arrival hours keep theirs. Only buckets starting from
    `buckets_from` are looked at: no rating of those hours is in an older one."""
    first = hour_label(arrived_from)
    keys = [
        {"pk": item["pk"], "sk": item["sk"]}
        for store_id in store_ids
        for granularity in ("hour", "day", "week")
        for item in query_all(
            KeyConditionExpression="pk = :pk AND sk >= :from",
            ExpressionAttributeValues=to_item(
                {":pk": f"AGG#{store_id}#{granularity}", ":from": _iso(buckets_from)}
            ),
            ProjectionExpression="pk, sk",
        )
        if str(item["sk"]).rsplit("#", 1)[-1] >= first
    ]
    for index in range(0, len(keys), 25):
        batch_write([{"DeleteRequest": {"Key": to_item(k)}} for k in keys[index : index + 25]])
    return len(keys)


BATCH_ATTEMPTS = 6  # then the caller's run fails and the next one redoes its writes
BATCH_BACKOFF_S = 0.05  # the first wait; doubled after each attempt, at most BATCH_BACKOFF_MAX_S
BATCH_BACKOFF_MAX_S = 2.0


def batch_write(requests: list[dict[str, Any]]) -> None:
    """One BatchWriteItem of up to 25 requests. What DynamoDB leaves unprocessed (a
    partition at its limit) is sent again after an exponential backoff with full jitter,
    never at once: resending into the same throttled partition only throttles again. After
    BATCH_ATTEMPTS, DependencyUnavailable (the writes here are deletes and puts that a
    later run makes again)."""
    pending: dict[str, Any] = {table_name(): requests}
    for attempt in range(BATCH_ATTEMPTS):
        if attempt:
            ceiling = min(BATCH_BACKOFF_MAX_S, BATCH_BACKOFF_S * 2 ** (attempt - 1))
            time.sleep(random.uniform(0, ceiling))  # noqa: S311 (jitter, not a secret)
        with unavailable_on_failure():
            pending = client().batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
        if not pending:
            return
    raise DependencyUnavailable(
        "storage is busy: writes left unprocessed; retry later",
        retry_after=settings().retry_after_s,
    )


@dataclass(frozen=True)
class LoggedTap:
    """One kiosk tap as the tap log keeps it: `arrived_in` is the start of its arrival slice,
    or of its arrival hour (`whole_hour`) for a tap logged before slices."""

    rating_id: str
    tapped_at: datetime
    arrived_in: datetime
    whole_hour: bool = False


# A tap may arrive up to MAX_TAP_AGE after it was made, and its neighbours are needed then.
TAP_LOG_RETENTION = MAX_TAP_AGE + timedelta(days=2)
MERGED_RETENTION = timedelta(days=3)  # only runs reading an hour that is not final use them


def _tap_log_pk(store_id: str, kiosk_id: str) -> str:
    return f"TAPS#{store_id}#{kiosk_id}"


def logged_taps(
    store_id: str, kiosk_id: str, first_hour: datetime, last_hour: datetime
) -> tuple[list[LoggedTap], set[str]]:
    """The kiosk's logged taps of the tapped hours `first_hour` to `last_hour` (UTC, both
    included), and which of them are marked repeat presses. Expired items are read as any:
    what they hold stays true, TTL only bounds how long it is kept."""
    items = query_all(
        KeyConditionExpression="pk = :pk AND sk BETWEEN :first AND :last",
        ExpressionAttributeValues=to_item(
            {
                ":pk": _tap_log_pk(store_id, kiosk_id),
                ":first": hour_label(first_hour),
                ":last": hour_label(last_hour),
            }
        ),
        ConsistentRead=True,
    )
    taps: list[LoggedTap] = []
    bursts: set[str] = set()
    for item in items:
        for entry in item.get("taps", ()):
            tapped_at, arrived, rating_id = str(entry).split("|", 2)
            whole_hour = len(arrived) == len("YYYY-MM-DDTHH")
            taps.append(
                LoggedTap(
                    rating_id,
                    datetime.fromisoformat(tapped_at),
                    datetime.strptime(
                        arrived, "%Y-%m-%dT%H" if whole_hour else "%Y-%m-%dT%H:%M"
                    ).replace(tzinfo=UTC),
                    whole_hour,
                )
            )
        bursts.update(str(rating_id) for rating_id in item.get("bursts", ()))
    return taps, bursts


@dataclass(frozen=True)
class TapLogAddition:
    """New taps of one kiosk and tapped hour, and new marks among that hour's taps."""

    store_id: str
    kiosk_id: str
    tapped_hour: datetime
    taps: list[LoggedTap]
    bursts: set[str]


def log_taps(additions: list[TapLogAddition]) -> None:
    """Add taps, and marks of repeat presses, to the kiosks' tap logs (set union: written
    again, nothing changes)."""
    _write_all([_tap_log_update(addition) for addition in additions])


def _tap_log_update(addition: TapLogAddition) -> dict[str, Any]:
    added = []
    values: dict[str, Any] = {
        ":expires": int((addition.tapped_hour + TAP_LOG_RETENTION).timestamp()),
        ":type": "tap_log",
    }
    if addition.taps:
        added.append("taps :taps")
        values[":taps"] = {
            f"{utc_iso(tap.tapped_at, 'milliseconds')}|"
            f"{hour_label(tap.arrived_in) if tap.whole_hour else slice_label(tap.arrived_in)}"
            f"|{tap.rating_id}"
            for tap in addition.taps
        }
    if addition.bursts:
        added.append("bursts :bursts")
        values[":bursts"] = set(addition.bursts)
    key = {"pk": _tap_log_pk(addition.store_id, addition.kiosk_id)}
    return {
        "Update": {
            "TableName": table_name(),
            "Key": to_item(key | {"sk": hour_label(addition.tapped_hour)}),
            "UpdateExpression": "SET expires_at = :expires, #type = :type"
            + (" ADD " + ", ".join(added) if added else ""),
            "ExpressionAttributeNames": {"#type": "type"},
            "ExpressionAttributeValues": to_item(values),
        }
    }


def merged_taps(arrival_slice: datetime) -> dict[tuple[str, str], int]:
    """How many of each kiosk's (store_id, kiosk_id) arrivals of this slice are in its tap
    log. A count stays true after its TTL: expiry only bounds how long it is kept."""
    items = query_all(
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues=to_item({":pk": f"MERGED#{slice_label(arrival_slice)}"}),
        ConsistentRead=True,
    )
    return {(str(item["store_id"]), str(item["kiosk_id"])): int(item["merged"]) for item in items}


def record_merged(counts: list[tuple[datetime, str, str, int]]) -> None:
    """Remember, per (arrival slice, store_id, kiosk_id, count), that `count` of the kiosk's
    arrivals of that slice are in its tap log. A slower run may write a lower count: the next
    run then merges those taps again, which changes nothing."""
    _write_all(
        [
            {
                "Put": {
                    "TableName": table_name(),
                    "Item": to_item(
                        {
                            "pk": f"MERGED#{slice_label(hour)}",
                            "sk": f"{store_id}#{kiosk_id}",
                            "type": "taps_merged",
                            "store_id": store_id,
                            "kiosk_id": kiosk_id,
                            "merged": count,
                            "expires_at": int((hour + MERGED_RETENTION).timestamp()),
                        }
                    ),
                }
            }
            for hour, store_id, kiosk_id, count in counts
        ]
    )


def _write_all(actions: list[dict[str, Any]]) -> None:
    """Independent writes that need no condition, up to 100 in a transaction (a run's cost
    here is round trips); a cancelled transaction (a concurrent write to one of its items)
    is written one by one instead. Each write is idempotent."""
    chunks = [actions[index : index + 100] for index in range(0, len(actions), 100)]
    if len(chunks) <= 1:
        for chunk in chunks:
            _write_chunk(chunk)
        return
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=8) as pool:  # independent: a run waits on round trips
        list(pool.map(_write_chunk, chunks))


def _write_chunk(chunk: list[dict[str, Any]]) -> None:
    if len(chunk) > 1 and transact(chunk):
        return
    with unavailable_on_failure():
        for action in chunk:
            if "Put" in action:
                client().put_item(**action["Put"])
            else:
                client().update_item(**action["Update"])


@dataclass(frozen=True)
class AlertClaim:
    """A store alert recorded as raised, and the store's alert state it replaced."""

    store_id: str
    raised_at: str
    previous: dict[str, Any] | None  # the earlier state, in DynamoDB's wire format


def claim_alert(
    store_id: str, start: datetime, end: datetime, now: datetime, quiet_until: datetime
) -> AlertClaim | None:
    """Record an alert of the window [start, end) raised at `now`, unless the store is still
    cooling down from its last alert or that alert covered a window ending after `start`
    (the same incident). One conditional write, so of overlapping runs exactly one claims;
    None when the condition failed."""
    raised_at = _iso(now)
    item = {
        **_alert_state_key(store_id),
        "type": "store_alert",
        "raised_at": raised_at,
        "quiet_until": _iso(quiet_until),
        "covered_until": _iso(end),
    }
    try:
        with unavailable_on_failure():
            response = client().put_item(
                TableName=table_name(),
                Item=to_item(item),
                # ISO-8601 UTC strings of one format: their order is the order in time.
                ConditionExpression=(
                    "attribute_not_exists(pk) OR (quiet_until <= :now AND covered_until <= :start)"
                ),
                ExpressionAttributeValues=to_item({":now": raised_at, ":start": _iso(start)}),
                ReturnValues="ALL_OLD",
            )
    except ClientError as error:
        if error_code(error) == "ConditionalCheckFailedException":
            return None
        raise
    return AlertClaim(store_id, raised_at, response.get("Attributes"))


def release_alert(claim: AlertClaim) -> None:
    """Undo a claim whose message could not be sent: the store's earlier alert state comes
    back (or none), so the next run tries again. Only if the claim is still the latest."""
    ours = to_item({":ours": claim.raised_at})
    try:
        with unavailable_on_failure():
            if claim.previous:
                client().put_item(
                    TableName=table_name(),
                    Item=claim.previous,
                    ConditionExpression="raised_at = :ours",
                    ExpressionAttributeValues=ours,
                )
            else:
                client().delete_item(
                    TableName=table_name(),
                    Key=to_item(_alert_state_key(claim.store_id)),
                    ConditionExpression="raised_at = :ours",
                    ExpressionAttributeValues=ours,
                )
    except ClientError as error:
        if error_code(error) != "ConditionalCheckFailedException":
            raise


def _alert_state_key(store_id: str) -> dict[str, str]:
    return {"pk": f"ALERTS#{store_id}", "sk": "COOLDOWN"}
