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

The run also keeps each store's rating log (storage/rating_log.py: the ratings by tapped
hour, which the CSV export reads): the counted ratings of each slice, added to sets, so a
rating is exported once the run has counted it, and a slice logged again changes nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from ..domain.aggregates import (
    GRANULARITIES,
    Granularity,
    bucket_start,
    tally_ratings,
)
from ..domain.ratings import BURST_GAP, MAX_TAP_AGE, find_bursts, tap_runs
from ..observability import logger
from ..storage import aggregates, rating_log, ratings, stores
from ..storage.aggregates import Kiosk, LoggedTap
from ..storage.dynamodb import in_parallel
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
# A slice with more arrivals than this is done in parts of about this many, store by store,
# the watermark moved after each: a run stops inside a slice of a chain that does not fit in
# what is left of its budget, and the next goes on from the stores it reached.
PART_RATINGS = 5_000

# A final slice's arrivals no longer change, so a warm container keeps the last large one it
# read: a chain's slice done in parts over several runs is read once, not once a run (83,000
# arrivals took about 7 s on DynamoDB Local, most of each catching-up run). Marks made since
# it was read are found again from the tap logs (the burst rule decides the same from the
# same taps); a write refused for a fuller view drops the copy, and the next run reads again.
# The read's time is kept with it: a run that reuses the copy still knows what the next
# slice's read may take before it starts one (else it starts it near its budget's end).
_kept_slice: dict[datetime, tuple[list[ArrivedRating], float]] = {}

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
    slowest_read_s: float = 0.0  # the longest read of arrivals so far
    zones: dict[str, str | None] = field(default_factory=dict)  # store id -> time zone
    arrival_hours: set[datetime] = field(default_factory=set)


def clear_caches() -> None:
    """Forget the kept slice (tests that load other arrivals into the same slice)."""
    _kept_slice.clear()


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
    model a killed run); `budget_s` is the time after which it stops between two parts
    (slices, or stores of a large slice)."""
    run = AggregationRun()
    deadline = clock() + budget_s
    mark = aggregates.watermark_position()
    position = mark.next_slice if mark else floor_slice(now - FIRST_RUN_LOOKBACK)
    last = floor_slice(now)
    final = True
    while position <= last:
        room = None if stop_after_slices is None else stop_after_slices - run.slices
        if room is not None and room <= 0:
            break
        if run.slices and _past(deadline, clock, run):
            run.out_of_time = True
            logger.info("out of time; the next run goes on", extra={"at": position.isoformat()})
            break
        chunk = _read_slices(position, last, room, run, deadline, clock, now - LAG)
        # Stores of the watermark's slice that an earlier run finished are not done again.
        done = mark.done_through if mark and chunk[0][0] == mark.next_slice else None
        reached = None
        stopped = False
        for part in _parts(chunk, done):
            _mark_repeat_presses([(at, arrived) for at, arrived, _ in part.slices], run)
            for arrival_slice, arrived, seen in part.slices:
                candidates, complete = _write_partials(arrival_slice, arrived, seen, run)
                if flag is not None and candidates:
                    # Before the watermark may pass these arrivals: no run reads them again,
                    # so a request not flagged by then would be lost. Flagging is idempotent.
                    run.flagged += flag(candidates)
                final = final and now >= arrival_slice + SLICE + LAG
                if final and not complete:
                    # Another run stored a fuller view of a partial: the next run reads the
                    # slice again rather than leave it behind the watermark as this run saw it.
                    logger.info("a fuller view of a slice is stored; stopping")
                    _kept_slice.pop(arrival_slice, None)
                    stopped = True
                    break
                if final:
                    if part.through is None:
                        reached = aggregates.Position(arrival_slice + SLICE)
                        run.finalised.append(aggregates.slice_label(arrival_slice))
                    else:
                        reached = aggregates.Position(arrival_slice, part.through)
                    # Past each part that held work, so a run that fails later keeps it done;
                    # past empty slices with the next (or at the chunk's end): one write,
                    # not one a slice.
                    if arrived:
                        if not aggregates.advance_watermark(mark, reached):
                            return _moved_by_another(run)
                        mark = reached
            if stopped:
                break
            if clock() >= deadline:
                # Between two parts, as a run that died here would: the next run goes on
                # from the watermark.
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
        for part in _parts(chunk, None):
            _mark_repeat_presses([(at, arrived) for at, arrived, _ in part.slices], run)
            for arrival_slice, arrived, seen in part.slices:
                _write_partials(arrival_slice, arrived, seen, run)
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
    final_before: datetime | None = None,
) -> Chunk:
    """The arrivals of the slice at `position` and the slices after it, up to `last`, `most`
    slices, about CHUNK_RATINGS ratings or the deadline: at least one slice. One read covers
    one slice, or after a quiet read twice as many as the last (within the hour), and is
    split into slices here. A large slice that ends before `final_before` (final) is kept
    for the container's next run (_kept_slice)."""
    chunk: Chunk = []
    count = 0
    span = 1
    while position <= last and count < CHUNK_RATINGS:
        if chunk and ((most is not None and len(chunk) >= most) or _past(deadline, clock, run)):
            break
        hour_end = floor_hour(position) + HOUR
        room = min(hour_end, last + SLICE) - position
        slices = max(1, min(span, int(room / SLICE), most - len(chunk) if most else span))
        end = position + slices * SLICE
        # Only scheduled runs pass final_before; a rebuild reads the stored ratings again.
        if slices == 1 and final_before is not None and position in _kept_slice:
            arrived, took_s = _kept_slice[position]
            run.slowest_read_s = max(run.slowest_read_s, took_s)
        else:
            started = clock()
            arrived = ratings.arrivals(position, end)
            took_s = clock() - started
            run.slowest_read_s = max(run.slowest_read_s, took_s)
            final = final_before is not None and end <= final_before
            if slices == 1 and len(arrived) > PART_RATINGS and final:
                _kept_slice.clear()  # one slice's worth of memory at most
                _kept_slice[position] = (arrived, took_s)
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


@dataclass
class Part:
    """Work done, and the watermark moved, in one go: whole slices, or the stores of one
    large slice through `through` (in the order of their ids; None: to the slice's end).
    Each entry is (slice start, the arrivals of the part's stores, all arrivals of the
    slice: what its tallies say they were computed from)."""

    slices: list[tuple[datetime, list[ArrivedRating], int]]
    through: str | None = None


def _parts(chunk: Chunk, done_through: str | None) -> list[Part]:
    """The chunk in parts of about PART_RATINGS ratings: small slices together, a larger
    one store by store. A store is never split (its partials and its kiosks' tap logs
    are its own), so a part ends between two stores, where the watermark can say how far
    the slice is done. The first slice's stores through `done_through` are left out."""
    parts: list[Part] = []
    small: list[tuple[datetime, list[ArrivedRating], int]] = []
    for index, (arrival_slice, arrived) in enumerate(chunk):
        seen = len(arrived)
        if index == 0 and done_through is not None:
            arrived = [rating for rating in arrived if rating["store_id"] > done_through]
        if len(arrived) <= PART_RATINGS:
            small.append((arrival_slice, arrived, seen))
            continue
        if small:
            parts.append(Part(small))
            small = []
        by_store: dict[str, list[ArrivedRating]] = {}
        for rating in arrived:
            by_store.setdefault(rating["store_id"], []).append(rating)
        group: list[ArrivedRating] = []
        for store_id in sorted(by_store):
            group.extend(by_store[store_id])
            if len(group) >= PART_RATINGS:
                parts.append(Part([(arrival_slice, group, seen)], store_id))
                group = []
        if group:
            parts.append(Part([(arrival_slice, group, seen)]))
        elif parts[-1].through == max(by_store):
            parts[-1].through = None  # the last store ended a part: the slice is done
    if small:
        parts.append(Part(small))
    return parts


def _past(deadline: float | None, clock: Callable[[], float], run: AggregationRun) -> bool:
    """Whether a read started now would end past the deadline, were it as slow as the
    slowest of the run (a chain's slice takes seconds to read)."""
    return deadline is not None and clock() + run.slowest_read_s >= deadline


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
    arrival_slice: datetime, arrived: list[ArrivedRating], seen: int, run: AggregationRun
) -> tuple[list[str], bool]:
    """Recompute the tallies of every bucket these arrivals of a slice touch (all of the
    slice's arrivals of their stores; `seen`: all of the slice's). Returns the ids of its
    kiosk ratings that still ask for a call (flagging strips the request), and whether
    every tally was written (False: another run stored a fuller view of one)."""
    known = _counted(arrived, run)
    zone_of = _zones(known, run)
    run.stores.update(zone_of)
    _log_ratings(arrival_slice, known)
    written = aggregates.put_partials(
        arrival_slice, list(tally_ratings(known, zone_of).items()), seen
    )
    run.partials += sum(written)
    asking = [rating["rating_id"] for rating in known if rating.get("callback_requested")]
    return asking, all(written)


def _log_ratings(arrival_slice: datetime, known: list[ArrivedRating]) -> None:
    """Add the slice's counted ratings to their stores' rating logs (what the exports read),
    before their tallies are written: by the time the watermark passes the slice, every
    rating it counted is logged. Written again with the slice, the log does not change."""
    by_store: dict[str, list[rating_log.LoggedRating]] = {}
    for rating in known:
        logged = rating_log.LoggedRating(rating["tapped_at"], rating["rating_id"])
        by_store.setdefault(rating["store_id"], []).append(logged)
    rating_log.log_ratings(arrival_slice, by_store)


def _recompute(
    arrival_slice: datetime, rating_ids: set[str], store_ids: set[str], run: AggregationRun
) -> None:
    """Rewrite the tallies of arrival slice `arrival_slice` that count these ratings (newly
    marked repeat presses); the slice's other tallies are unchanged. Only the stores of
    those ratings are read back (a chain's slice, read whole for each part of the next
    slice, took most of a catching-up run); `seen` is the slice's, counted in the read."""
    arrived, seen = ratings.store_arrivals(arrival_slice, arrival_slice + SLICE, store_ids)
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
    tallies = [(k, t) for k, t in tally_ratings(known, zone_of).items() if k in touched]
    run.recomputed += sum(aggregates.put_partials(arrival_slice, tallies, seen))


def _mark_repeat_presses(chunk: Chunk, run: AggregationRun) -> None:
    """Decide the repeat presses among the kiosk taps of these arrival slices and the logged
    taps around them.

    Newly found repeat presses are marked in their items first, then every tally that
    counts them is recomputed (this chunk's slices are written next, with run.bursts), and
    last the logs record taps and marks: a run that dies half way leaves the rest to the
    next, which finds the same. A kiosk whose taps are all logged already (a slice read
    again) finds what it found before and writes nothing."""
    new: dict[Kiosk, list[LoggedTap]] = {}
    marked_at_ingest: set[str] = set()
    for arrival_slice, arrived in chunk:
        for rating in arrived:
            if rating.get("channel") == "kiosk" and _zone(rating["store_id"], run):
                kiosk = (rating["store_id"], rating["source_id"])
                tapped_at = datetime.fromisoformat(rating["tapped_at"])
                new.setdefault(kiosk, []).append(
                    LoggedTap(rating["rating_id"], tapped_at, arrival_slice)
                )
                if rating.get("burst"):
                    marked_at_ingest.add(rating["rating_id"])
    logs = _read_logs(new)
    decisions = [_decide(kiosk, taps, logs[kiosk], marked_at_ingest) for kiosk, taps in new.items()]
    marks = sorted(rating_id for decision in decisions for rating_id in decision.marks)
    # mark_bursts sends its transactions one after another; a busy chain's slice has
    # thousands of marks, so their hundreds go side by side.
    in_parallel(ratings.mark_bursts, [marks[i : i + 100] for i in range(0, len(marks), 100)])
    run.marked += len(marks)
    chunk_slices = {arrival_slice for arrival_slice, _ in chunk}
    recompute: dict[datetime, tuple[set[str], set[str]]] = {}  # rating ids, their stores
    for kiosk, decision in zip(new, decisions, strict=True):
        run.bursts |= decision.bursts
        for rating_id in decision.marks:
            tap = decision.arrived_in[rating_id]
            # A tap logged before slices names its arrival hour: any of its slices.
            hour_slices = int(HOUR / SLICE) if tap.whole_hour else 1
            for index in range(hour_slices):
                arrival_slice = tap.arrived_in + index * SLICE
                if arrival_slice not in chunk_slices:
                    rating_ids, store_ids = recompute.setdefault(arrival_slice, (set(), set()))
                    rating_ids.add(rating_id)
                    store_ids.add(kiosk[0])
    for arrival_slice, (rating_ids, store_ids) in sorted(recompute.items()):
        _recompute(arrival_slice, rating_ids, store_ids, run)
    aggregates.log_taps([addition for decision in decisions for addition in decision.additions])


@dataclass
class KioskLog:
    """A kiosk's taps around its new ones: the new ones and those its tap log holds of the
    tapped hours read (`loaded`), which of those are logged, and the marks logged."""

    taps: dict[str, LoggedTap]
    logged: set[str] = field(default_factory=set)
    bursts: set[str] = field(default_factory=set)
    loaded: set[datetime] = field(default_factory=set)


def _read_logs(new: dict[Kiosk, list[LoggedTap]]) -> dict[Kiosk, KioskLog]:
    """Every kiosk's logged taps of each run of taps its new ones belong to: the tapped
    hours within BURST_GAP of them, then the next hour of each kiosk whose run of taps
    reaches the edge of what was read, and so on. One batched read of every kiosk's hours
    a round (a second round is for the few whose runs cross an hour), not a read a kiosk."""
    logs = {kiosk: KioskLog({tap.rating_id: tap for tap in taps}) for kiosk, taps in new.items()}
    wanted = {
        kiosk: {
            floor_hour(tap.tapped_at + shift) for tap in taps for shift in (-BURST_GAP, BURST_GAP)
        }
        for kiosk, taps in new.items()
    }
    while wanted:
        for kiosk, (found, bursts) in aggregates.logged_taps(wanted).items():
            log = logs[kiosk]
            log.loaded |= wanted[kiosk]
            log.logged.update(tap.rating_id for tap in found)
            log.taps = {tap.rating_id: tap for tap in found} | log.taps
            log.bursts |= bursts
        further: dict[Kiosk, set[datetime]] = {}
        for kiosk in wanted:
            new_ids = {tap.rating_id for tap in new[kiosk]}
            log = logs[kiosk]
            edges = set()
            for run_of_taps in tap_runs(
                (tap.rating_id, tap.tapped_at) for tap in log.taps.values()
            ):
                if any(rating_id in new_ids for rating_id, _ in run_of_taps):
                    edges.add(floor_hour(run_of_taps[0][1] - BURST_GAP))
                    edges.add(floor_hour(run_of_taps[-1][1] + BURST_GAP))
            if edges - log.loaded:
                further[kiosk] = edges - log.loaded
        wanted = further
    return logs


@dataclass
class KioskDecision:
    """What merging one kiosk's new taps found."""

    bursts: set[str]  # every repeat press among the taps looked at
    marks: set[str]  # those not marked in their items yet
    arrived_in: dict[str, LoggedTap]  # each tap looked at, with its arrival slice
    additions: list[aggregates.TapLogAddition]  # what its tap log lacks


def _decide(
    kiosk: Kiosk, new: list[LoggedTap], log: KioskLog, marked_at_ingest: set[str]
) -> KioskDecision:
    """Decide repeat presses over one kiosk's new taps and the logged taps of every run of
    taps they belong to (`log`)."""
    store_id, kiosk_id = kiosk
    new_ids = {tap.rating_id for tap in new}
    taps, logged, logged_bursts = log.taps, log.logged, log.bursts
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
