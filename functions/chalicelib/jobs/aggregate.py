"""Scheduled: turn newly arrived ratings into per-store hour, day and week tallies.

Each run reads the arrival hours from the watermark (the oldest hour not yet final) to the
current one: normally the open hour, and the previous one until it is final. An hour is
final LAG after it ends (a rating is stamped on arrival, its write lands within a request's
lifetime, and the index follows within a second); then the watermark moves past it and no
run reads it again. Cost per run: the arrivals of the last hour or so, whatever the history.
A late tap (an offline kiosk syncing days later) arrives in the current hour and updates the
buckets of the hours when it was tapped.

Repeat presses are decided here, where a kiosk's taps can be seen together whatever request,
hour or run brought them: each kiosk's taps go into its tap log (by tapped hour), and the
burst rule runs over the new taps and the logged ones around them. A rating newly found to
be a repeat press is marked in its item and the partials it is counted in are recomputed,
before the log records the mark: a run that dies in between leaves the work to the next.
More taps never unmark one, so a decision made from the taps a run saw is never undone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from ..domain.aggregates import GRANULARITIES, Granularity, bucket_start, tally_ratings
from ..domain.ratings import BURST_GAP, MAX_TAP_AGE, find_bursts, tap_runs
from ..observability import logger
from ..storage import aggregates, ratings, stores
from ..storage.aggregates import LoggedTap
from ..storage.ratings import ArrivedRating

LAG = timedelta(minutes=2)
FIRST_RUN_LOOKBACK = timedelta(days=7)
HOUR = timedelta(hours=1)
# Arrival hours are read, up to about this many ratings, before their repeat presses are
# decided together: one tap log read and write per kiosk for a backlog, bounded memory.
CHUNK_RATINGS = 50_000

Kiosk = tuple[str, str]  # (store_id, kiosk_id)


@dataclass
class AggregationRun:
    hours: int = 0
    ratings: int = 0
    partials: int = 0
    finalised: list[str] = field(default_factory=list)
    stores: set[str] = field(default_factory=set)  # stores whose ratings this run counted
    flagged: int = 0  # callback tasks created by `flag`
    bursts: set[str] = field(default_factory=set)  # ratings this run knows are repeat presses
    marked: int = 0  # ratings this run marked as repeat presses
    recomputed: int = 0  # partials of other arrival hours rewritten for those marks
    zones: dict[str, str | None] = field(default_factory=dict)  # store id -> time zone


def floor_hour(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def aggregate(
    now: datetime,
    *,
    flag: Callable[[list[str]], int] | None = None,
    stop_after_hours: int | None = None,
) -> AggregationRun:
    """One run. `flag` gets each hour's kiosk ratings that ask for a call (their ids) and
    returns the tasks it created; `stop_after_hours` ends the run early (tests use it to
    model a killed run)."""
    run = AggregationRun()
    mark = aggregates.watermark()
    hour = mark or floor_hour(now - FIRST_RUN_LOOKBACK)
    last = floor_hour(now)
    final = True
    while hour <= last:
        room = None if stop_after_hours is None else stop_after_hours - run.hours
        if room is not None and room <= 0:
            break
        chunk = _read_hours(hour, last, room, run)
        _mark_repeat_presses(chunk, run)
        for arrival_hour, arrived in chunk:
            candidates, complete = _write_partials(arrival_hour, arrived, run)
            if flag is not None and candidates:
                # Before the watermark may pass this hour: no run reads its arrivals again,
                # so a request not flagged by then would be lost. Flagging is idempotent.
                run.flagged += flag(candidates)
            run.hours += 1
            final = final and now >= arrival_hour + HOUR + LAG
            if not final:
                continue
            if not complete:
                # Another run stored a fuller view of a partial: the next run reads the hour
                # again rather than leave it behind the watermark as this run saw it.
                logger.info("a fuller view of an hour is stored; stopping")
                return _logged(run)
            if not aggregates.advance_watermark(mark, arrival_hour + HOUR):
                logger.info("another run moved the watermark; stopping")
                return _logged(run)
            mark = arrival_hour + HOUR
            run.finalised.append(aggregates.hour_label(arrival_hour))
        hour = chunk[-1][0] + HOUR
    return _logged(run)


def rebuild(since: datetime, now: datetime) -> AggregationRun:
    """Recompute the partials of every arrival hour from `since` (its UTC hour) to now from
    the raw ratings, repeat presses decided again; the partials of earlier arrival hours are
    left as they are. A bucket is the sum of its partials, so one that holds ratings of both
    sides is the full recomputation. The watermark stays where it is: the hours it has not
    passed are still the scheduled runs' to finish (and to flag for callbacks)."""
    run = AggregationRun()
    first, last = floor_hour(since), floor_hour(now)
    # No rating of those hours is in an older bucket: a tap is at most MAX_TAP_AGE older
    # than its arrival, and its week (the longest bucket) starts at most 7 days before it.
    aggregates.delete_partials(
        stores.list_store_ids(), first, first - MAX_TAP_AGE - timedelta(days=8)
    )
    hour = first
    while hour <= last:
        chunk = _read_hours(hour, last, None, run)
        _mark_repeat_presses(chunk, run, again=True)
        for arrival_hour, arrived in chunk:
            _write_partials(arrival_hour, arrived, run)
            run.hours += 1
        hour = chunk[-1][0] + HOUR
    return _logged(run)


def parse_since(text: str) -> datetime:
    """SINCE as an operator gives it: a date (UTC midnight) or an ISO date-time; one without
    an offset is UTC."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"since must be a date or an ISO date-time, not {text!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _logged(run: AggregationRun) -> AggregationRun:
    log = logger.info if run.ratings else logger.debug  # an idle store's runs are no news
    log(
        "aggregation run",
        extra={
            "hours": run.hours,
            "ratings": run.ratings,
            "partials": run.partials,
            "marked": run.marked,
            "recomputed": run.recomputed,
        },
    )
    return run


def _read_hours(
    hour: datetime, last: datetime, most: int | None, run: AggregationRun
) -> list[tuple[datetime, list[ArrivedRating]]]:
    """The arrivals of `hour` and the hours after it, up to `last`, `most` hours or about
    CHUNK_RATINGS ratings: at least one hour."""
    chunk: list[tuple[datetime, list[ArrivedRating]]] = []
    count = 0
    while hour <= last and count < CHUNK_RATINGS and (most is None or len(chunk) < most):
        arrived = ratings.arrivals(hour)
        run.ratings += len(arrived)
        count += len(arrived)
        chunk.append((hour, arrived))
        hour += HOUR
    return chunk


def _zone(store_id: str, run: AggregationRun) -> str | None:
    if store_id not in run.zones:
        store = stores.get_store(store_id)
        run.zones[store_id] = store.timezone if store else None
    return run.zones[store_id]


def _counted(arrived: list[ArrivedRating], run: AggregationRun) -> list[ArrivedRating]:
    """The ratings of known stores, `burst` as this run knows it (the index may not show
    a mark made a moment ago)."""
    known = []
    for rating in arrived:
        if _zone(rating["store_id"], run) is None:
            continue
        if rating["rating_id"] in run.bursts:
            rating = rating | {"burst": True}
        known.append(rating)
    return known


def _zones(rows: Iterable[ArrivedRating], run: AggregationRun) -> dict[str, str]:
    return {
        rating["store_id"]: zone
        for rating in rows
        if (zone := _zone(rating["store_id"], run)) is not None
    }


def _write_partials(
    hour: datetime, arrived: list[ArrivedRating], run: AggregationRun
) -> tuple[list[str], bool]:
    """Recompute the partials of every bucket this arrival hour touches. Returns the ids of
    its kiosk ratings that still ask for a call (flagging strips the request), and whether
    every partial was written (False: another run stored a fuller view of one)."""
    known = _counted(arrived, run)
    zone_of = _zones(known, run)
    run.stores.update(zone_of)
    complete = True
    for (store_id, granularity, start), tally in tally_ratings(known, zone_of).items():
        if aggregates.put_partial(store_id, granularity, start, hour, tally, len(arrived)):
            run.partials += 1
        else:
            complete = False
    asking = [rating["rating_id"] for rating in known if rating.get("callback_requested")]
    return asking, complete


def _recompute(hour: datetime, rating_ids: set[str], run: AggregationRun) -> None:
    """Rewrite the partials of arrival hour `hour` that count these ratings (newly marked
    repeat presses); the hour's other partials are unchanged."""
    arrived = ratings.arrivals(hour)
    known = _counted(arrived, run)
    zone_of = _zones(known, run)
    touched: set[tuple[str, Granularity, datetime]] = set()
    for rating in known:
        if rating["rating_id"] in rating_ids:
            store_id = rating["store_id"]
            tapped_at = datetime.fromisoformat(rating["tapped_at"])
            touched.update(
                (store_id, granularity, bucket_start(tapped_at, zone_of[store_id], granularity))
                for granularity in GRANULARITIES
            )
    for key, tally in tally_ratings(known, zone_of).items():
        if key in touched:
            store_id, granularity, start = key
            if aggregates.put_partial(store_id, granularity, start, hour, tally, len(arrived)):
                run.recomputed += 1


def _mark_repeat_presses(
    chunk: list[tuple[datetime, list[ArrivedRating]]], run: AggregationRun, *, again: bool = False
) -> None:
    """Decide the repeat presses among the kiosk taps of these arrival hours and the logged
    taps around them. A kiosk whose taps of an hour are all in its log already (the hour was
    read before) is skipped, unless `again` (a rebuild decides everything again).

    Newly found repeat presses are marked in their items first, then every partial that
    counts them is recomputed (this chunk's hours are written next, with run.bursts), then
    the logs record taps and marks, and last the merged counts: a run that dies half way
    leaves the rest to the next, which finds the same."""
    new: dict[Kiosk, list[LoggedTap]] = {}
    marked_at_ingest: set[str] = set()
    merged_counts: list[tuple[datetime, str, str, int]] = []
    for hour, arrived in chunk:
        taps_of: dict[Kiosk, list[ArrivedRating]] = {}
        for rating in arrived:
            if rating.get("channel") == "kiosk" and _zone(rating["store_id"], run):
                kiosk = (rating["store_id"], rating["source_id"])
                taps_of.setdefault(kiosk, []).append(rating)
        if not taps_of:
            continue
        merged = {} if again else aggregates.merged_taps(hour)
        for kiosk, taps in taps_of.items():
            if merged.get(kiosk) == len(taps):
                continue
            new.setdefault(kiosk, []).extend(
                LoggedTap(tap["rating_id"], datetime.fromisoformat(tap["tapped_at"]), hour)
                for tap in taps
            )
            marked_at_ingest.update(tap["rating_id"] for tap in taps if tap.get("burst"))
            merged_counts.append((hour, *kiosk, len(taps)))
    decisions = [_decide(kiosk, taps, marked_at_ingest) for kiosk, taps in new.items()]
    marks = sorted(rating_id for decision in decisions for rating_id in decision.marks)
    ratings.mark_bursts(marks)
    run.marked += len(marks)
    chunk_hours = {hour for hour, _ in chunk}
    recompute: dict[datetime, set[str]] = {}
    for decision in decisions:
        run.bursts |= decision.bursts
        for rating_id in decision.marks:
            hour = decision.arrived_in[rating_id]
            if hour not in chunk_hours:
                recompute.setdefault(hour, set()).add(rating_id)
    for hour, rating_ids in sorted(recompute.items()):
        _recompute(hour, rating_ids, run)
    aggregates.log_taps([addition for decision in decisions for addition in decision.additions])
    aggregates.record_merged(merged_counts)


@dataclass
class KioskDecision:
    """What merging one kiosk's new taps found."""

    bursts: set[str]  # every repeat press among the taps looked at
    marks: set[str]  # those not marked in their items yet
    arrived_in: dict[str, datetime]  # arrival hour of each tap looked at
    additions: list[aggregates.TapLogAddition]  # what its tap log lacks


def _decide(kiosk: Kiosk, new: list[LoggedTap], marked_at_ingest: set[str]) -> KioskDecision:
    """Decide repeat presses over one kiosk's new taps and the logged taps of every run of
    taps they belong to (read as far as those runs reach)."""
    store_id, kiosk_id = kiosk
    new_ids = {tap.rating_id for tap in new}
    taps = {tap.rating_id: tap for tap in new}
    logged: set[str] = set()
    logged_bursts: set[str] = set()
    loaded: set[datetime] = set()
    wanted = {floor_hour(tap.tapped_at + shift) for tap in new for shift in (-BURST_GAP, BURST_GAP)}
    while wanted - loaded:
        for first, last in _spans(wanted - loaded):
            found, bursts = aggregates.logged_taps(store_id, kiosk_id, first, last)
            logged.update(tap.rating_id for tap in found)
            taps = {tap.rating_id: tap for tap in found} | taps
            logged_bursts |= bursts
        loaded |= wanted
        # A run of taps that reaches the edge of what was read may go on in the next hour.
        for run_of_taps in tap_runs((tap.rating_id, tap.tapped_at) for tap in taps.values()):
            if any(rating_id in new_ids for rating_id, _ in run_of_taps):
                wanted.add(floor_hour(run_of_taps[0][1] - BURST_GAP))
                wanted.add(floor_hour(run_of_taps[-1][1] + BURST_GAP))
    decided = find_bursts((tap.rating_id, tap.tapped_at) for tap in taps.values())
    already = logged_bursts | (marked_at_ingest & new_ids)
    by_hour: dict[datetime, tuple[list[LoggedTap], set[str]]] = {}
    for tap in taps.values():
        unlogged = tap.rating_id in new_ids and tap.rating_id not in logged
        unmarked = tap.rating_id in decided | already and tap.rating_id not in logged_bursts
        if unlogged or unmarked:
            entry = by_hour.setdefault(floor_hour(tap.tapped_at), ([], set()))
            if unlogged:
                entry[0].append(tap)
            if unmarked:
                entry[1].add(tap.rating_id)
    return KioskDecision(
        bursts=decided | already,
        marks=decided - already,
        arrived_in={rating_id: tap.arrival_hour for rating_id, tap in taps.items()},
        additions=[
            aggregates.TapLogAddition(store_id, kiosk_id, hour, to_log, to_mark)
            for hour, (to_log, to_mark) in sorted(by_hour.items())
        ],
    )


def _spans(hours: set[datetime]) -> list[tuple[datetime, datetime]]:
    """Consecutive hours as (first, last) spans: one Query each."""
    spans: list[tuple[datetime, datetime]] = []
    for hour in sorted(hours):
        if spans and hour - spans[-1][1] == HOUR:
            spans[-1] = (spans[-1][0], hour)
        else:
            spans.append((hour, hour))
    return spans
