"""Scheduled: turn newly arrived ratings into per-store hour, day and week tallies.

The unit of work is an arrival slice: SLICE (5 minutes) of one UTC hour's arrivals. Each
run reads the slices from the watermark (the oldest slice not yet final) to the current
one, normally the slice that became final since the last run and the open one, so a run
costs what arrived since the previous run's position, not the whole open hour (a run
re-read that hour in full, 12 times an hour, before slices: 113,268 arrivals took 18.8 s,
and again with nothing new). A slice is final LAG after it ends (a rating is stamped on
arrival, its write lands within a request's lifetime, and the index follows within a
second); then the watermark moves past it and no run reads it again. A late tap (an offline
kiosk syncing days later) arrives in the current slice and updates the buckets of the hours
when it was tapped.

Why slices and not an increment from a position: a slice's tallies are recomputed from all
its arrivals and written as a replacement (one attribute per slice in the partial of its
arrival hour), so a retried, killed or overlapping run writes the same value again, never
adds; a position kept within the hour would make every write an increment that needs its
own exactly-once guard. A bucket keeps one partial per arrival hour, as before slices, so
reading a bucket costs what it did; each partial holds at most 60 / 5 = 12 slice tallies.

A run works to a time budget (RUN_BUDGET_S, well inside the function's 29 s timeout): past
it, it stops between two slices, and the next run goes on from the watermark. The slices
are read a chunk at a time (up to CHUNK_RATINGS ratings); a read covers several slices of
one hour after quiet ones, so an idle or caught-up backlog costs one Query per shard and
hour.

Repeat presses are decided here, where a kiosk's taps can be seen together whatever request,
hour or run brought them: each kiosk's taps go into its tap log (by tapped hour), and the
burst rule runs over the new taps and the logged ones around them. A rating newly found to
be a repeat press is marked in its item and the partials it is counted in are recomputed,
before the log records the mark: a run that dies in between leaves the work to the next.
More taps never unmark one, so a decision made from the taps a run saw is never undone.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from ..domain.aggregates import (
    GRANULARITIES,
    Granularity,
    Tally,
    bucket_start,
    tally_ratings,
)
from ..domain.ratings import BURST_GAP, MAX_TAP_AGE, find_bursts, tap_runs
from ..observability import logger
from ..storage import aggregates, ratings, stores
from ..storage.aggregates import LoggedTap
from ..storage.ratings import ArrivedRating

LAG = timedelta(minutes=2)
SLICE = timedelta(minutes=5)  # divides an hour: a slice never spans two arrival hours
# Without a watermark (a new table) the first run starts this far back: nothing older.
FIRST_RUN_LOOKBACK = timedelta(days=1)
HOUR = timedelta(hours=1)
# Slices are read, up to about this many ratings, before their repeat presses are decided
# together: one tap log read and write per kiosk for a backlog, bounded memory.
CHUNK_RATINGS = 10_000
# A read after one that found fewer than this covers twice as many slices (to the hour's
# end): quiet and empty slices cost no Query each.
QUIET_READ = 2_000
# The function times out at 29 s (functions/.chalice/config.json). A run stops between two
# slices after this: one slice must fit in what is left (docs/data-model.md).
RUN_BUDGET_S = 15.0
WRITERS = 8  # kiosks merged, or partials written, at once: a run waits on round trips

Kiosk = tuple[str, str]  # (store_id, kiosk_id)
Item = TypeVar("Item")
Result = TypeVar("Result")
Chunk = list[tuple[datetime, list[ArrivedRating]]]  # (slice start, its arrivals)


@dataclass
class AggregationRun:
    hours: int = 0  # arrival hours read
    slices: int = 0  # arrival slices read
    ratings: int = 0
    partials: int = 0
    finalised: list[str] = field(default_factory=list)  # slices the watermark passed
    stores: set[str] = field(default_factory=set)  # stores whose ratings this run counted
    flagged: int = 0  # callback tasks created by `flag`
    bursts: set[str] = field(default_factory=set)  # ratings this run knows are repeat presses
    marked: int = 0  # ratings this run marked as repeat presses
    recomputed: int = 0  # partials of other arrival slices rewritten for those marks
    out_of_time: bool = False  # stopped at RUN_BUDGET_S with slices left for the next run
    zones: dict[str, str | None] = field(default_factory=dict)  # store id -> time zone
    arrival_hours: set[datetime] = field(default_factory=set)


def floor_hour(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def floor_slice(moment: datetime) -> datetime:
    """The start of the arrival slice holding `moment`."""
    utc = moment.astimezone(UTC)
    minutes = int(SLICE.total_seconds() // 60)
    return utc.replace(minute=utc.minute - utc.minute % minutes, second=0, microsecond=0)


def aggregate(
    now: datetime,
    *,
    flag: Callable[[list[str]], int] | None = None,
    stop_after_slices: int | None = None,
    budget_s: float = RUN_BUDGET_S,
    clock: Callable[[], float] = time.monotonic,
) -> AggregationRun:
    """One run. `flag` gets each slice's kiosk ratings that ask for a call (their ids) and
    returns the tasks it created; `stop_after_slices` ends the run early (tests use it to
    model a killed run); `budget_s` is the time after which it stops between two slices."""
    run = AggregationRun()
    deadline = clock() + budget_s
    mark = aggregates.watermark()
    position = mark or floor_slice(now - FIRST_RUN_LOOKBACK)
    last = floor_slice(now)
    final = True
    while position <= last:
        room = None if stop_after_slices is None else stop_after_slices - run.slices
        if room is not None and room <= 0:
            break
        if run.slices and clock() >= deadline:
            run.out_of_time = True
            logger.info("out of time; the next run goes on", extra={"at": position.isoformat()})
            break
        chunk = _read_slices(position, last, room, run, deadline, clock)
        _mark_repeat_presses(chunk, run)
        reached = None
        stopped = False
        for arrival_slice, arrived in chunk:
            candidates, complete = _write_partials(arrival_slice, arrived, run)
            if flag is not None and candidates:
                # Before the watermark may pass this slice: no run reads its arrivals again,
                # so a request not flagged by then would be lost. Flagging is idempotent.
                run.flagged += flag(candidates)
            final = final and now >= arrival_slice + SLICE + LAG
            if final and not complete:
                # Another run stored a fuller view of a partial: the next run reads the slice
                # again rather than leave it behind the watermark as this run saw it.
                logger.info("a fuller view of a slice is stored; stopping")
                stopped = True
                break
            if final:
                reached = arrival_slice + SLICE
                run.finalised.append(aggregates.slice_label(arrival_slice))
                # Past each slice that held work, so a run that fails later keeps it done;
                # past empty ones with the next (or at the chunk's end): one write, not one
                # a slice.
                if arrived:
                    if not aggregates.advance_watermark(mark, reached):
                        return _moved_by_another(run)
                    mark = reached
            if clock() >= deadline:
                # Between two slices, as a run that died here would: the chunk's taps are
                # merged, and the next run counts its slices with their marks.
                run.out_of_time = stopped = True
                break
        if reached is not None and reached != mark:
            if not aggregates.advance_watermark(mark, reached):
                return _moved_by_another(run)
            mark = reached
        if stopped:
            break
        position = chunk[-1][0] + SLICE
    return _logged(run)


def rebuild(since: datetime, now: datetime) -> AggregationRun:
    """Recompute the partials of every arrival hour from `since` (its UTC hour) to now from
    the raw ratings, repeat presses decided again; the partials of earlier arrival hours are
    left as they are. A bucket is the sum of its partials, so one that holds ratings of both
    sides is the full recomputation. The watermark stays where it is: the slices it has not
    passed are still the scheduled runs' to finish (and to flag for callbacks). No time
    budget: an operator's run, as long as the range asks."""
    run = AggregationRun()
    first, last = floor_hour(since), floor_slice(now)
    # No rating of those hours is in an older bucket: a tap is at most MAX_TAP_AGE older
    # than its arrival, and its week (the longest bucket) starts at most 7 days before it.
    aggregates.delete_partials(
        stores.list_store_ids(), first, first - MAX_TAP_AGE - timedelta(days=8)
    )
    position = first
    while position <= last:
        chunk = _read_slices(position, last, None, run, None, time.monotonic)
        _mark_repeat_presses(chunk, run, again=True)
        for arrival_slice, arrived in chunk:
            _write_partials(arrival_slice, arrived, run)
        position = chunk[-1][0] + SLICE
    return _logged(run)


def parse_since(text: str) -> datetime:
    """SINCE as an operator gives it: a date (UTC midnight) or an ISO date-time; one without
    an offset is UTC."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"since must be a date or an ISO date-time, not {text!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _moved_by_another(run: AggregationRun) -> AggregationRun:
    logger.info("another run moved the watermark; stopping")
    return _logged(run)


def _logged(run: AggregationRun) -> AggregationRun:
    run.hours = len(run.arrival_hours)
    log = logger.info if run.ratings else logger.debug  # an idle store's runs are no news
    log(
        "aggregation run",
        extra={
            "hours": run.hours,
            "slices": run.slices,
            "ratings": run.ratings,
            "partials": run.partials,
            "marked": run.marked,
            "recomputed": run.recomputed,
            "out_of_time": run.out_of_time,
        },
    )
    return run


def _read_slices(
    position: datetime,
    last: datetime,
    most: int | None,
    run: AggregationRun,
    deadline: float | None,
    clock: Callable[[], float],
) -> Chunk:
    """The arrivals of the slice at `position` and the slices after it, up to `last`, `most`
    slices, about CHUNK_RATINGS ratings or the deadline: at least one slice. One read covers
    one slice, or after a quiet read twice as many as the last (within the hour), and is
    split into slices here."""
    chunk: Chunk = []
    count = 0
    span = 1
    while position <= last and count < CHUNK_RATINGS:
        if chunk and ((most is not None and len(chunk) >= most) or _past(deadline, clock)):
            break
        hour_end = floor_hour(position) + HOUR
        room = min(hour_end, last + SLICE) - position
        slices = max(1, min(span, int(room / SLICE), most - len(chunk) if most else span))
        end = position + slices * SLICE
        arrived = ratings.arrivals(position, end)
        run.ratings += len(arrived)
        count += len(arrived)
        by_slice: dict[datetime, list[ArrivedRating]] = {
            position + index * SLICE: [] for index in range(slices)
        }
        for rating in arrived:
            by_slice[floor_slice(datetime.fromisoformat(rating["received_at"]))].append(rating)
        chunk.extend(by_slice.items())
        run.slices += slices
        run.arrival_hours.add(floor_hour(position))
        span = span * 2 if len(arrived) < QUIET_READ else 1
        position = end
    return chunk


def _past(deadline: float | None, clock: Callable[[], float]) -> bool:
    return deadline is not None and clock() >= deadline


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
    arrival_slice: datetime, arrived: list[ArrivedRating], run: AggregationRun
) -> tuple[list[str], bool]:
    """Recompute the tallies of every bucket this arrival slice touches. Returns the ids of
    its kiosk ratings that still ask for a call (flagging strips the request), and whether
    every tally was written (False: another run stored a fuller view of one)."""
    known = _counted(arrived, run)
    zone_of = _zones(known, run)
    run.stores.update(zone_of)
    written = _put_all(arrival_slice, tally_ratings(known, zone_of), len(arrived))
    run.partials += sum(written)
    asking = [rating["rating_id"] for rating in known if rating.get("callback_requested")]
    return asking, all(written)


def _put_all(
    arrival_slice: datetime,
    tallies: dict[tuple[str, Granularity, datetime], Tally],
    seen: int,
) -> list[bool]:
    """Write the slice's tallies, WRITERS at a time (each write is independent)."""

    def put(entry: tuple[tuple[str, Granularity, datetime], Tally]) -> bool:
        (store_id, granularity, start), tally = entry
        return aggregates.put_partial(store_id, granularity, start, arrival_slice, tally, seen)

    return _parallel(put, list(tallies.items()))


def _parallel(work: Callable[[Item], Result], items: list[Item]) -> list[Result]:
    """`work` on each item, WRITERS at a time: each is a few round trips of its own (a
    kiosk's tap log, a partial), and a run waits on round trips, not on the processor."""
    if len(items) <= 1:
        return [work(item) for item in items]
    with ThreadPoolExecutor(max_workers=WRITERS) as pool:
        return list(pool.map(work, items))


def _recompute(arrival_slice: datetime, rating_ids: set[str], run: AggregationRun) -> None:
    """Rewrite the tallies of arrival slice `arrival_slice` that count these ratings (newly
    marked repeat presses); the slice's other tallies are unchanged."""
    arrived = ratings.arrivals(arrival_slice, arrival_slice + SLICE)
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
    tallies = {k: t for k, t in tally_ratings(known, zone_of).items() if k in touched}
    run.recomputed += sum(_put_all(arrival_slice, tallies, len(arrived)))


def _mark_repeat_presses(chunk: Chunk, run: AggregationRun, *, again: bool = False) -> None:
    """Decide the repeat presses among the kiosk taps of these arrival slices and the logged
    taps around them. A kiosk whose taps of a slice are all in its log already (the slice
    was read before) is skipped, unless `again` (a rebuild decides everything again).

    Newly found repeat presses are marked in their items first, then every tally that
    counts them is recomputed (this chunk's slices are written next, with run.bursts), then
    the logs record taps and marks, and last the merged counts: a run that dies half way
    leaves the rest to the next, which finds the same."""
    new: dict[Kiosk, list[LoggedTap]] = {}
    marked_at_ingest: set[str] = set()
    merged_counts: list[tuple[datetime, str, str, int]] = []
    for arrival_slice, arrived in chunk:
        taps_of: dict[Kiosk, list[ArrivedRating]] = {}
        for rating in arrived:
            if rating.get("channel") == "kiosk" and _zone(rating["store_id"], run):
                kiosk = (rating["store_id"], rating["source_id"])
                taps_of.setdefault(kiosk, []).append(rating)
        if not taps_of:
            continue
        merged = {} if again else aggregates.merged_taps(arrival_slice)
        for kiosk, taps in taps_of.items():
            if merged.get(kiosk) == len(taps):
                continue
            new.setdefault(kiosk, []).extend(
                LoggedTap(tap["rating_id"], datetime.fromisoformat(tap["tapped_at"]), arrival_slice)
                for tap in taps
            )
            marked_at_ingest.update(tap["rating_id"] for tap in taps if tap.get("burst"))
            merged_counts.append((arrival_slice, *kiosk, len(taps)))
    decisions = _parallel(lambda entry: _decide(*entry, marked_at_ingest), list(new.items()))
    marks = sorted(rating_id for decision in decisions for rating_id in decision.marks)
    ratings.mark_bursts(marks)
    run.marked += len(marks)
    chunk_slices = {arrival_slice for arrival_slice, _ in chunk}
    recompute: dict[datetime, set[str]] = {}
    for decision in decisions:
        run.bursts |= decision.bursts
        for rating_id in decision.marks:
            tap = decision.arrived_in[rating_id]
            # A tap logged before slices names its arrival hour: any of its slices.
            hour_slices = int(HOUR / SLICE) if tap.whole_hour else 1
            for index in range(hour_slices):
                arrival_slice = tap.arrived_in + index * SLICE
                if arrival_slice not in chunk_slices:
                    recompute.setdefault(arrival_slice, set()).add(rating_id)
    for arrival_slice, rating_ids in sorted(recompute.items()):
        _recompute(arrival_slice, rating_ids, run)
    aggregates.log_taps([addition for decision in decisions for addition in decision.additions])
    aggregates.record_merged(merged_counts)


@dataclass
class KioskDecision:
    """What merging one kiosk's new taps found."""

    bursts: set[str]  # every repeat press among the taps looked at
    marks: set[str]  # those not marked in their items yet
    arrived_in: dict[str, LoggedTap]  # each tap looked at, with its arrival slice
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
        arrived_in=taps,
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
