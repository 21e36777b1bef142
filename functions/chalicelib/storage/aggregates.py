"""Aggregates: per-store bucket tallies, written as partials that a re-run overwrites, and
what the runs keep to decide repeat presses across requests, hours and runs.

Key formats
  partial:    pk = AGG#<store_id>#<hour|day|week>,
              sk = <bucket start, UTC ISO-8601>#<arrival hour, UTC YYYY-MM-DDTHH>
              tally (map), seen (how many arrivals of that hour the tally was computed from)
  watermark:  pk = AGGREGATION, sk = WATERMARK; next_hour = the oldest arrival hour not final
  tap log:    pk = TAPS#<store_id>#<kiosk_id>, sk = <tapped hour, UTC YYYY-MM-DDTHH>
              taps (string set of "<tapped_at>|<arrival hour>|<rating_id>"), bursts (string
              set of the rating ids marked as repeat presses), expires_at
  merged:     pk = MERGED#<arrival hour>, sk = <store_id>#<kiosk_id>; merged = how many of
              that kiosk's arrivals of that hour are in its tap log; expires_at
  store alert: pk = ALERTS#<store_id>, sk = COOLDOWN; raised_at, quiet_until, covered_until

Why a re-run cannot double count: a partial is a pure function of one arrival hour's
ratings (all of them, read again), never an increment. Writing it again replaces it; the
write is conditional on neither `seen` nor the tally's `filtered` shrinking: arrivals only
grow and a rating is only ever marked a repeat press, never unmarked, so of two overlapping
runs the one that saw more wins, and a late, slower run cannot put an older view back.

The tap log and the merged counts only ever grow (ADD to sets; a lower count written by a
slower run only makes the next run merge again), so retries and overlapping runs can do no
harm with them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from ..domain.aggregates import Granularity, Tally
from ..domain.ratings import MAX_TAP_AGE
from .dynamodb import (
    client,
    error_code,
    from_item,
    put_if,
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


def put_partial(
    store_id: str,
    granularity: Granularity,
    bucket_start: datetime,
    arrival_hour: datetime,
    tally: Tally,
    seen: int,
) -> bool:
    """Write one bucket's tally of one arrival hour; False if a fuller view is stored (more
    arrivals seen, or more of them known to be repeat presses)."""
    item = {
        "pk": f"AGG#{store_id}#{granularity}",
        "sk": f"{_iso(bucket_start)}#{hour_label(arrival_hour)}",
        "type": "aggregate_partial",
        "start": bucket_start.isoformat(),
        "tally": tally.model_dump(),
        "seen": seen,
    }
    return put_if(
        to_item(item),
        "attribute_not_exists(pk) OR (seen <= :seen AND tally.filtered <= :filtered)",
        {":seen": seen, ":filtered": tally.filtered},
    )


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
    with unavailable_on_failure():
        for index in range(0, len(keys), 25):
            chunk = [{"DeleteRequest": {"Key": to_item(k)}} for k in keys[index : index + 25]]
            pending: Any = {table_name(): chunk}
            while pending:
                pending = client().batch_write_item(RequestItems=pending).get("UnprocessedItems")
    return len(keys)


@dataclass(frozen=True)
class LoggedTap:
    """One kiosk tap as the tap log keeps it."""

    rating_id: str
    tapped_at: datetime
    arrival_hour: datetime


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
            tapped_at, arrival_hour, rating_id = str(entry).split("|", 2)
            taps.append(
                LoggedTap(
                    rating_id,
                    datetime.fromisoformat(tapped_at),
                    datetime.strptime(arrival_hour, "%Y-%m-%dT%H").replace(tzinfo=UTC),
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
            f"{utc_iso(tap.tapped_at, 'milliseconds')}|{hour_label(tap.arrival_hour)}"
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


def merged_taps(arrival_hour: datetime) -> dict[tuple[str, str], int]:
    """How many of each kiosk's (store_id, kiosk_id) arrivals of this hour are in its tap
    log. A count stays true after its TTL: expiry only bounds how long it is kept."""
    items = query_all(
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues=to_item({":pk": f"MERGED#{hour_label(arrival_hour)}"}),
        ConsistentRead=True,
    )
    return {(str(item["store_id"]), str(item["kiosk_id"])): int(item["merged"]) for item in items}


def record_merged(counts: list[tuple[datetime, str, str, int]]) -> None:
    """Remember, per (arrival hour, store_id, kiosk_id, count), that `count` of the kiosk's
    arrivals of that hour are in its tap log. A slower run may write a lower count: the next
    run then merges those taps again, which changes nothing."""
    _write_all(
        [
            {
                "Put": {
                    "TableName": table_name(),
                    "Item": to_item(
                        {
                            "pk": f"MERGED#{hour_label(hour)}",
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
    for index in range(0, len(actions), 100):
        chunk = actions[index : index + 100]
        if len(chunk) > 1 and transact(chunk):
            continue
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
