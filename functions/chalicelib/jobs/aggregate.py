"""Scheduled: turn newly arrived ratings into per-store hour, day and week tallies.

Each run reads the arrival hours from the watermark (the oldest hour not yet final) to the
current one: normally the open hour, and the previous one until it is final. An hour is
final LAG after it ends (a rating is stamped on arrival, its write lands within a request's
lifetime, and the index follows within a second); then the watermark moves past it and no
run reads it again. Cost per run: the arrivals of the last hour or so, whatever the history.
A late tap (an offline kiosk syncing days later) arrives in the current hour and updates the
buckets of the hours when it was tapped.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from ..domain.aggregates import tally_ratings
from ..domain.ratings import find_bursts
from ..observability import logger
from ..store import aggregates, stores

LAG = timedelta(minutes=2)
FIRST_RUN_LOOKBACK = timedelta(days=7)
HOUR = timedelta(hours=1)


@dataclass
class AggregationRun:
    hours: int = 0
    ratings: int = 0
    partials: int = 0
    finalised: list[str] = field(default_factory=list)
    stores: set[str] = field(default_factory=set)  # stores whose ratings this run counted
    flagged: int = 0  # callback tasks created by `flag`


def floor_hour(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def aggregate(
    now: datetime,
    *,
    flag: Callable[[list[str]], int] | None = None,
    stop_after_hours: int | None = None,
) -> AggregationRun:
    """One run. `flag` gets each hour's kiosk ratings that ask for a call (their keys) and
    returns the tasks it created; `stop_after_hours` ends the run early (tests use it to
    model a killed run)."""
    run = AggregationRun()
    mark = aggregates.watermark()
    hour = mark or floor_hour(now - FIRST_RUN_LOOKBACK)
    final = True
    while hour <= floor_hour(now):
        if stop_after_hours is not None and run.hours >= stop_after_hours:
            break
        candidates = aggregate_hour(hour, run)
        if flag is not None and candidates:
            # Before the watermark may pass this hour: no run reads its arrivals again, so
            # a request not flagged by then would be lost. Flagging is idempotent.
            run.flagged += flag(candidates)
        run.hours += 1
        final = final and now >= hour + HOUR + LAG
        if final:
            if not aggregates.advance_watermark(mark, hour + HOUR):
                logger.info("another run moved the watermark; stopping")
                break
            mark = hour + HOUR
            run.finalised.append(aggregates.hour_label(hour))
        hour += HOUR
    log = logger.info if run.ratings else logger.debug  # an idle store's runs are no news
    log(
        "aggregation run",
        extra={"hours": run.hours, "ratings": run.ratings, "partials": run.partials},
    )
    return run


def aggregate_hour(hour: datetime, run: AggregationRun) -> list[str]:
    """Recompute the partials of every bucket this arrival hour touches; returns the keys of
    its kiosk ratings that still ask for a call (flagging strips the request)."""
    arrived = aggregates.arrivals(hour)
    run.ratings += len(arrived)
    zone_of: dict[str, str] = {}
    known: list[dict[str, Any]] = []
    for rating in arrived:
        store_id = str(rating["store_id"])
        if store_id not in zone_of:
            store = stores.get_store(store_id)
            if store is None:
                continue
            zone_of[store_id] = store.timezone
        known.append(rating)
    _mark_bursts(known)
    run.stores.update(zone_of)
    for (store_id, granularity, start), tally in tally_ratings(known, zone_of).items():
        if aggregates.put_partial(store_id, granularity, start, hour, tally, len(arrived)):
            run.partials += 1
    return [str(rating["pk"]) for rating in known if rating.get("callback_requested")]


def _mark_bursts(ratings: list[dict[str, Any]]) -> None:
    """Repeat presses across the kiosk's batches of this hour (ingest saw one batch)."""
    by_kiosk: dict[str, list[dict[str, Any]]] = {}
    for rating in ratings:
        if rating.get("channel") == "kiosk":
            by_kiosk.setdefault(str(rating.get("source_id")), []).append(rating)
    for taps in by_kiosk.values():
        ids = find_bursts(
            [(str(t["pk"]), datetime.fromisoformat(str(t["tapped_at"]))) for t in taps]
        )
        for tap in taps:
            if str(tap["pk"]) in ids:
                tap["burst"] = True


def rebuild(since: datetime, now: datetime) -> AggregationRun:
    """Recompute every aggregate from the raw ratings that arrived since `since`."""
    store_ids = stores.list_store_ids()
    aggregates.delete_aggregates(store_ids)
    aggregates.advance_watermark(None, floor_hour(since))
    return aggregate(now)
