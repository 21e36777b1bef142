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
              final (next_hour: the hour before slices, read when next_slice is missing);
              done_through = the last store id (in their order) of that slice whose
              ratings are counted, when a run stopped inside the slice
  tap log:    pk = TAPS#<store_id>#<kiosk_id>, sk = <tapped hour, UTC YYYY-MM-DDTHH>
              taps (string set of "<tapped_at>|<arrival slice>|<rating_id>", the slice as
              YYYY-MM-DDTHH:MM, or YYYY-MM-DDTHH: an arrival hour, logged before slices),
              bursts (string set of the rating ids marked as repeat presses), expires_at
              (MERGED#<arrival slice> items, one per kiosk, were written until 2026-12-03;
              they expire by TTL and are no longer read)
  store alert: pk = ALERTS#<store_id>, sk = COOLDOWN; raised_at, quiet_until, covered_until

Why a re-run cannot double count: a slice's tally is a pure function of one arrival slice's
ratings (all of them, read again), never an increment. Writing it again replaces it; the
write is conditional on neither its `seen` nor its `filtered` shrinking: arrivals only grow
and a rating is only ever marked a repeat press, never unmarked, so of two overlapping runs
the one that saw more wins, and a late, slower run cannot put an older view back.

The tap log only ever grows (ADD to sets), so retries and overlapping runs can do no harm
with it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from ..domain.aggregates import Granularity, Tally
from ..domain.ratings import MAX_TAP_AGE
from .dynamodb import (
    batch_get_all,
    batch_write,
    client,
    error_code,
    from_item,
    query_all,
    table_name,
    to_item,
    transact_all,
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


PartialKey = tuple[str, Granularity, datetime]  # (store_id, granularity, bucket start)


def put_partials(
    arrival_slice: datetime, tallies: list[tuple[PartialKey, Tally]], seen: int
) -> list[bool]:
    """Write buckets' tallies of one arrival slice (its `seen` arrivals), up to 100 to a
    TransactWriteItems, BATCHES_IN_FLIGHT at once: for each, False if a fuller view is
    stored (more arrivals seen, or more of them known to be repeat presses).

    Why transactions, at twice the write units of an UpdateItem: a slice of a chain holds
    thousands of partials, one round trip each took most of a run (a 2,000-store slice:
    6,300 UpdateItems, 49 s on DynamoDB Local), and BatchWriteItem takes no condition, which
    is what keeps a slower run's older view out. The items need not be written together:
    the condition of each is read from CancellationReasons, and the others sent again."""
    return transact_all(
        [_partial_update(key, arrival_slice, tally, seen) for key, tally in tallies]
    )


def put_partial(
    store_id: str,
    granularity: Granularity,
    bucket_start: datetime,
    arrival_slice: datetime,
    tally: Tally,
    seen: int,
) -> bool:
    """One bucket's tally of one arrival slice; False if a fuller view is stored."""
    (written,) = put_partials(arrival_slice, [((store_id, granularity, bucket_start), tally)], seen)
    return written


def _partial_update(
    key: PartialKey, arrival_slice: datetime, tally: Tally, seen: int
) -> dict[str, Any]:
    store_id, granularity, bucket_start = key
    arrived = arrival_slice.astimezone(UTC)
    return {
        "Update": {
            "TableName": table_name(),
            "Key": to_item(
                {
                    "pk": f"AGG#{store_id}#{granularity}",
                    "sk": f"{_iso(bucket_start)}#{hour_label(arrived)}",
                }
            ),
            # The whole-hour tally of a partial from before slices goes: this hour's slices
            # are being written from its first arrivals on.
            "UpdateExpression": "SET #slice = :slice, #start = :start, #type = :type "
            "REMOVE #tally, #seen",
            "ConditionExpression": "attribute_not_exists(#slice) OR "
            "(#slice.#seen <= :seen AND #slice.filtered <= :filtered)",
            "ExpressionAttributeNames": {
                "#slice": f"s{arrived.minute:02d}",
                "#start": "start",
                "#type": "type",
                "#tally": "tally",
                "#seen": "seen",
            },
            "ExpressionAttributeValues": to_item(
                {
                    ":slice": tally.model_dump() | {"seen": seen},
                    ":start": bucket_start.isoformat(),
                    ":type": "aggregate_partial",
                    ":seen": seen,
                    ":filtered": tally.filtered,
                }
            ),
        }
    }


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


def has_partials(store_id: str) -> bool:
    """Whether any run has counted ratings of the store (one hourly partial, one read)."""
    with unavailable_on_failure():
        response = client().query(
            TableName=table_name(),
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues=to_item({":pk": f"AGG#{store_id}#hour"}),
            ProjectionExpression="pk",
            Limit=1,
        )
    return bool(response.get("Items"))


@dataclass(frozen=True)
class Position:
    """Where the scheduled runs are: the oldest arrival slice not final, and of that slice
    the stores (in the order of their ids) done through `done_through` (None: none yet).
    A run stops inside a slice only if a slice of a chain takes longer than its budget."""

    next_slice: datetime
    done_through: str | None = None


def watermark_position() -> Position | None:
    """The watermark (None before the first run)."""
    with unavailable_on_failure():
        response = client().get_item(
            TableName=table_name(), Key=to_item(_WATERMARK), ConsistentRead=True
        )
    if "Item" not in response:
        return None
    item = from_item(response["Item"])
    next_slice = datetime.fromisoformat(str(item.get("next_slice") or item["next_hour"]))
    done = item.get("done_through")
    return Position(next_slice, str(done) if done is not None else None)


def watermark() -> datetime | None:
    """The oldest arrival slice not final yet (None before the first run)."""
    position = watermark_position()
    return position.next_slice if position else None


def advance_watermark(past: datetime | Position | None, to: datetime | Position) -> bool:
    """Move the watermark from `past` to `to`; False if another run moved it elsewhere.

    Already at `to` counts as moved: when the answer to this write is lost (a 500 after
    the write, a dropped connection), the client's retry, or the next run's, finds its own
    write done and goes on, instead of taking it for another run's and stopping."""
    origin = Position(past) if isinstance(past, datetime) else past
    target = Position(to) if isinstance(to, datetime) else to
    values: dict[str, Any] = {":to": _iso(target.next_slice)}
    at_target = f"(next_slice = :to AND {_done_through(target, ':to_store', values)})"
    if origin is None:
        condition = f"attribute_not_exists(pk) OR {at_target}"
    else:
        values[":past"] = _iso(origin.next_slice)
        at_origin = f"(next_slice = :past AND {_done_through(origin, ':past_store', values)})"
        # A watermark from before slices names an hour, which is that hour's first slice.
        condition = (
            f"{at_origin} OR {at_target} OR "
            "(attribute_not_exists(next_slice) AND next_hour = :past)"
        )
    if target.done_through is None:
        update = "SET next_slice = :to REMOVE next_hour, done_through"
    else:
        update = "SET next_slice = :to, done_through = :to_store REMOVE next_hour"
    try:
        with unavailable_on_failure():
            client().update_item(
                TableName=table_name(),
                Key=to_item(_WATERMARK),
                UpdateExpression=update,
                ConditionExpression=condition,
                ExpressionAttributeValues=to_item(values),
            )
    except ClientError as error:
        if error_code(error) == "ConditionalCheckFailedException":
            return False
        raise
    return True


def _done_through(position: Position, name: str, values: dict[str, Any]) -> str:
    if position.done_through is None:
        return "attribute_not_exists(done_through)"
    values[name] = position.done_through
    return f"done_through = {name}"


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


def _tap_log_pk(store_id: str, kiosk_id: str) -> str:
    return f"TAPS#{store_id}#{kiosk_id}"


Kiosk = tuple[str, str]  # (store_id, kiosk_id)


def logged_taps(
    wanted: dict[Kiosk, set[datetime]],
) -> dict[Kiosk, tuple[list[LoggedTap], set[str]]]:
    """For each kiosk, its logged taps of the wanted tapped hours (UTC), and which of them
    are marked repeat presses: the log items of exactly those hours, read by BatchGetItem
    (100 keys a request, BATCHES_IN_FLIGHT at once, strongly consistent), not a Query per
    kiosk. Expired items are read as any: what they hold stays true, TTL only bounds how
    long it is kept."""
    kiosk_of = {_tap_log_pk(*kiosk): kiosk for kiosk in wanted}
    keys = [
        to_item({"pk": _tap_log_pk(*kiosk), "sk": hour_label(hour)})
        for kiosk, hours in wanted.items()
        for hour in sorted(hours)
    ]
    found: dict[Kiosk, tuple[list[LoggedTap], set[str]]] = {kiosk: ([], set()) for kiosk in wanted}
    for item in batch_get_all(keys):
        taps, bursts = found[kiosk_of[str(item["pk"])]]
        taps.extend(_logged(str(entry)) for entry in item.get("taps", ()))
        bursts.update(str(rating_id) for rating_id in item.get("bursts", ()))
    return found


def _logged(entry: str) -> LoggedTap:
    tapped_at, arrived, rating_id = entry.split("|", 2)
    whole_hour = len(arrived) == len("YYYY-MM-DDTHH")
    return LoggedTap(
        rating_id,
        datetime.fromisoformat(tapped_at),
        datetime.strptime(arrived, "%Y-%m-%dT%H" if whole_hour else "%Y-%m-%dT%H:%M").replace(
            tzinfo=UTC
        ),
        whole_hour,
    )


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
    # Each write is idempotent and needs no condition.
    transact_all([_tap_log_update(addition) for addition in additions])


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
