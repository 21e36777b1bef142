"""Scheduled aggregation against the real DynamoDB Local engine: a run costs what arrived
since the last run, not the history behind the watermark.

    .venv/bin/python -m benchmarks.aggregate              # from the repository root
    .venv/bin/python -m benchmarks.aggregate --quick      # a tenth of the ratings

1. O(new): one run over the same 10,000 new ratings (open hour, four stores in four time
   zones, tapped within the last days) in a table without history and in one holding 100,000
   older ratings that earlier runs aggregated (their arrival hours are behind the watermark).
   The first run of each table also merges the new taps into the kiosks' tap logs and marks
   the repeat presses they make (with history, some of older hours: those are recomputed).
   Each timed run starts with the watermark at the open hour, so each repeats the work.
2. Capacity of that run: read units (Query, BatchGetItem, GetItem) and write units
   (TransactWriteItems, UpdateItem, PutItem) per new rating, and the calls.
3. 100,000 new ratings: the runs it takes (each stops at its time budget), time, ratings/s,
   every rating counted.
4. An hour of a 2,000-store chain at peak (8,000 kiosks, 100,000 arrivals; 1,000,000 with
   --million, or N with --arrivals=N): the hour's arrivals are loaded first (BatchWriteItem
   from LOAD_PROCESSES processes), then the scheduled run is called as the schedule would,
   its clock 5 minutes on each time, until the watermark is past the hour. A run reads only
   the slices up to its clock, from the watermark, and stops at its time budget
   (RUN_BUDGET_S; the function times out at 29 s), inside a slice if need be. Prints each
   run, the longest and the p95, and whether every bucket equals a rebuild's.

Every scenario gets its own fresh table; ratings are loaded with BatchWriteItem, item for
item as put_rating writes them (8 threads). Prints figures with PASS/FAIL; always exits 0.

    .venv/bin/python -m benchmarks.aggregate --million   # part 4 alone, 1,000,000 arrivals
    .venv/bin/python -m benchmarks.aggregate --arrivals=250000   # part 4 alone, 250,000
"""

from __future__ import annotations

import contextlib
import os
import random
import statistics
import sys
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

from benchmarks.common import on_dynamodb_local, scaled, verdict

STORES = {
    "bench-new-york": "America/New_York",
    "bench-berlin": "Europe/Berlin",
    "bench-tokyo": "Asia/Tokyo",
    "bench-sydney": "Australia/Sydney",
}
KIOSKS = 8  # per store
HOUR = timedelta(hours=1)
NOW = datetime(2026, 11, 20, 18, 40, tzinfo=UTC)  # the runs measured; 18:00 is the open hour
OPEN_HOUR = NOW.replace(minute=0)
SETTLED = OPEN_HOUR + timedelta(minutes=5)  # a run then leaves the watermark at OPEN_HOUR
TAP_SPREAD = timedelta(days=3)  # tapped up to this long before arrival (offline kiosks)
NEW, HISTORY, LARGE = scaled(10_000), scaled(100_000), scaled(100_000)
MILLION = "--million" in sys.argv[1:]
# --arrivals=N: part 4 alone with N arrivals in its hour (the largest a machine has time for).
ARRIVALS = next((int(a.split("=", 1)[1]) for a in sys.argv[1:] if a.startswith("--arrivals=")), 0)
CHAIN_HOUR = ARRIVALS or scaled(1_000_000 if MILLION else 100_000)
PART_FOUR_ONLY = MILLION or bool(ARRIVALS)
# 8,000 kiosks: at 1,000,000 arrivals an hour a kiosk is tapped every 29 s on average, busy
# (at a kiosk every few seconds most taps would be repeat presses).
CHAIN_STORES, CHAIN_KIOSKS = 2_000, 4
RUN_EVERY = timedelta(minutes=5)  # the schedule (functions/app.py)
TIMEOUT_S = 29.0
HISTORY_HOURS = 48  # arrival hours before OPEN_HOUR that hold the history
ROUNDS = 5  # timed runs per table in part 1, the two tables interleaved
LOAD_THREADS = 8
LOAD_PROCESSES = 2  # part 4 seeds from this many processes (its ratings are made there too)
BUDGET_RATIO = 1.2
# Every call a run makes, and which of them read and write.
OPS = ("Query", "BatchGetItem", "GetItem", "TransactWriteItems", "UpdateItem", "PutItem")
READS, WRITES = OPS[:3], OPS[3:]

_rng = random.Random(20261120)
out = sys.stdout  # the report; Powertools output goes to /dev/null


def say(text: str = "") -> None:
    print(text, file=out, flush=True)


def make_ratings(count: int, since: datetime, span: timedelta) -> list[Any]:
    """`count` ratings received in [since, since + span), over every store and kiosk."""
    from chalicelib.domain.ratings import Rating

    made = []
    for index in range(count):
        store_id = list(STORES)[index % len(STORES)]
        received = since + span * _rng.random()
        score = _rng.randint(1, 5)
        sms = _rng.random() < 0.1
        made.append(
            Rating(
                rating_id=str(uuid.UUID(int=_rng.getrandbits(128), version=4)),
                store_id=store_id,
                channel="sms" if sms else "kiosk",
                source_id=f"sms-{index}" if sms else f"{store_id}-k{_rng.randrange(KIOSKS)}",
                survey_id="default-smiley-5",
                score=score,
                reasons=_rng.sample(["wait_time", "staff", "price"], 1) if score <= 3 else [],
                expectation=_rng.choice([None, "worse", "as_expected", "better"]),
                tapped_at=received - TAP_SPREAD * _rng.random(),
                received_at=received,
            )
        )
    return made


def load(ratings: list[Any]) -> float:
    """Write the ratings as put_rating would (same items), 25 per BatchWriteItem; seconds."""
    from chalicelib.storage.dynamodb import client, table_name
    from chalicelib.storage.ratings import rating_item

    ddb, table = client(), table_name()

    def write(chunk: list[Any]) -> None:
        pending: Any = {table: [{"PutRequest": {"Item": rating_item(r)}} for r in chunk]}
        for attempt in range(10):
            if attempt:  # what DynamoDB left unprocessed, after a backoff
                time.sleep(_rng.uniform(0, min(2.0, 0.05 * 2**attempt)))
            pending = ddb.batch_write_item(RequestItems=pending).get("UnprocessedItems")
            if not pending:
                return
        raise RuntimeError("writes left unprocessed after 10 attempts")

    started = time.perf_counter()
    with ThreadPoolExecutor(LOAD_THREADS) as pool:
        list(pool.map(write, [ratings[i : i + 25] for i in range(0, len(ratings), 25)]))
    return time.perf_counter() - started


def use_table(name: str, endpoint: str, *, create: bool = False) -> None:
    """Point the app at table `name` (settings and clients are cached per container)."""
    from chalicelib import config
    from chalicelib.domain.survey import DEFAULT_SURVEY, Store
    from chalicelib.storage import dynamodb, stores
    from devtools import dynamodb_local

    os.environ["STOREPULSE_TABLE_NAME"] = name
    config.settings.cache_clear()
    dynamodb.client.cache_clear()
    stores.clear_caches()
    if create:
        dynamodb_local.create_table(dynamodb_local.client(endpoint), name)
        for store_id, zone in STORES.items():
            stores.put_store(
                Store(store_id=store_id, name=store_id, timezone=zone, survey=DEFAULT_SURVEY)
            )
    for store_id in STORES:  # warm, as a scheduled Lambda's container is between runs
        stores.get_store(store_id)


def timed(now: datetime) -> tuple[float, Any]:
    from chalicelib.jobs.aggregate import aggregate

    started = time.perf_counter()
    run = aggregate(now)
    return time.perf_counter() - started, run


def settle() -> float:
    """Runs before the new ratings, from the history's first hour, until every arrival hour
    before OPEN_HOUR is final (each run stops at its time budget); their total time."""
    from chalicelib.storage import aggregates

    if aggregates.watermark() is None:
        aggregates.advance_watermark(None, OPEN_HOUR - HISTORY_HOURS * HOUR)
    total = 0.0
    while True:
        elapsed, run = timed(SETTLED)
        total += elapsed
        if not run.out_of_time:
            break
    if aggregates.watermark() != OPEN_HOUR:
        raise RuntimeError(f"watermark {aggregates.watermark()}, expected {OPEN_HOUR}")
    return total


def counted() -> int:
    """responses + filtered summed over every hour bucket of every store."""
    from chalicelib.storage import aggregates

    start, end = OPEN_HOUR - TAP_SPREAD - HOUR, OPEN_HOUR + HOUR
    return sum(
        t.responses + t.filtered
        for store_id in STORES
        for t in aggregates.bucket_tallies(store_id, "hour", start, end).values()
    )


def capacity(now: datetime) -> dict[str, float]:
    """One run with ConsumedCapacity requested: calls and units by operation."""
    from chalicelib.storage import dynamodb

    totals: Counter[str] = Counter()

    def ask(params: dict[str, Any], **_: Any) -> None:
        params["ReturnConsumedCapacity"] = "TOTAL"

    def tally(parsed: dict[str, Any], model: Any, **_: Any) -> None:
        totals[f"{model.name} calls"] += 1
        consumed = parsed.get("ConsumedCapacity") or []  # a list from batches and transactions
        for entry in consumed if isinstance(consumed, list) else [consumed]:
            totals[f"{model.name} units"] += entry.get("CapacityUnits", 0)

    events = dynamodb.client().meta.events
    for operation in OPS:
        events.register(f"provide-client-params.dynamodb.{operation}", ask)
        events.register(f"after-call.dynamodb.{operation}", tally)
    _, run = timed(now)
    totals["ratings"] = run.ratings
    return dict(totals)


def check(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def part_one(endpoint: str) -> None:
    fresh, history = "bench-agg-fresh", "bench-agg-history"
    new = make_ratings(NEW, OPEN_HOUR, NOW - OPEN_HOUR)
    old = make_ratings(HISTORY, OPEN_HOUR - HISTORY_HOURS * HOUR, HISTORY_HOURS * HOUR)

    use_table(history, endpoint, create=True)
    took = load(old)
    say(f"   history: {HISTORY:,} ratings in {HISTORY_HOURS} arrival hours, loaded in {took:.0f} s")
    say(f"   history aggregated by runs in {settle():.0f} s; watermark now {OPEN_HOUR:%H:%M}")
    use_table(fresh, endpoint, create=True)
    settle()
    for name in (fresh, history):
        use_table(name, endpoint)
        load(new)

    times: dict[str, list[float]] = {fresh: [], history: []}
    runs = []
    for round_ in range(ROUNDS):  # re-runs repeat the same work: the open hour is not final
        for name in (fresh, history) if round_ % 2 == 0 else (history, fresh):
            use_table(name, endpoint)
            rewind()
            elapsed, run = timed(NOW)
            times[name].append(elapsed)
            runs.append(run)
    for label, name in (("(a) no history ", fresh), ("(b) 10x history", history)):
        listed = ", ".join(f"{t:.2f}" for t in times[name])
        say(f"   {label}  median {statistics.median(times[name]):.2f} s   (runs: {listed})")
    ratio = statistics.median(times[history]) / statistics.median(times[fresh])
    say(f"   ratio (b)/(a)  {ratio:.2f}   {verdict(ratio, BUDGET_RATIO)}")
    same = all((r.ratings, r.hours, r.partials) == (NEW, 1, runs[0].partials) for r in runs)
    say(f"   every run read 1 hour, {NEW:,} ratings, {runs[0].partials} partials   {check(same)}")
    for label, first in (("(a)", runs[0]), ("(b)", runs[1])):  # each table's first run
        say(
            f"   {label} first run: {first.marked} repeat presses marked, "
            f"{first.recomputed} partials of other arrival hours recomputed"
        )

    say(f"\n2. Capacity of the {NEW:,}-rating run (ReturnConsumedCapacity=TOTAL)")
    for label, name in (("(a) no history ", fresh), ("(b) 10x history", history)):
        use_table(name, endpoint)
        rewind()
        cap = capacity(NOW)
        rcu = sum(cap.get(f"{op} units", 0) for op in READS) / cap["ratings"]
        wcu = sum(cap.get(f"{op} units", 0) for op in WRITES) / cap["ratings"]
        calls = ", ".join(f"{op} {cap[k]:.0f}" for op in OPS if (k := f"{op} calls") in cap)
        say(f"   {label}  {rcu:.4f} RCU and {wcu:.4f} WCU per new rating")
        say(f"                    calls: {calls}")
    drop(endpoint, fresh, history)


def part_two(endpoint: str) -> None:
    name = "bench-agg-large"
    use_table(name, endpoint, create=True)
    settle()
    took = load(make_ratings(LARGE, OPEN_HOUR, NOW - OPEN_HOUR))
    say(f"   {LARGE:,} ratings, all arrived in the open hour, loaded in {took:.0f} s")
    times: list[float] = []
    while True:  # the runs that follow one another until the backlog is read
        elapsed, run = timed(NOW)
        times.append(elapsed)
        say(f"   run {len(times)}  {elapsed:.1f} s, {run.ratings:,} ratings read")
        if not run.out_of_time:
            break
    total = counted()
    say(f"   {len(times)} runs, {sum(times):.1f} s, {LARGE / sum(times):,.0f} ratings/s")
    say(f"   hour buckets hold {total:,} (responses + filtered)   {check(total == LARGE)}")
    drop(endpoint, name)


def rewind() -> None:
    """The watermark back to the open hour: a timed run repeats the same work (a slice's
    tallies are written again, equal)."""
    from chalicelib.storage import aggregates

    aggregates.advance_watermark(aggregates.watermark(), OPEN_HOUR)


def chain_store_id(store: int) -> str:
    zone = list(STORES.values())[store % 4]
    return f"chain-{zone.split('/')[1].lower().replace('_', '-')}-{store}"


def chain_ratings(count: int, hour: datetime, rng: random.Random) -> list[Any]:
    """`count` ratings received over `hour` from CHAIN_STORES stores (four time zones) of
    CHAIN_KIOSKS kiosks each: tapped a few seconds before arriving, 1 in 50 an offline
    kiosk's tap of the last 3 days, 1 in 10 by SMS."""
    from chalicelib.domain.ratings import Rating

    made = []
    for _ in range(count):
        store = rng.randrange(CHAIN_STORES)
        received = hour + HOUR * rng.random()
        sms = rng.random() < 0.1
        late = rng.random() < 0.02
        score = rng.randint(1, 5)
        made.append(
            Rating(
                rating_id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                store_id=chain_store_id(store),
                channel="sms" if sms else "kiosk",
                source_id=f"sms-{rng.getrandbits(64):x}"
                if sms
                else f"k{store}-{rng.randrange(CHAIN_KIOSKS)}",
                survey_id="default-smiley-5",
                score=score,
                reasons=rng.sample(["wait_time", "staff", "price"], 1) if score <= 3 else [],
                tapped_at=received
                - (TAP_SPREAD * rng.random() if late else timedelta(seconds=rng.uniform(1, 5))),
                received_at=received,
            )
        )
    return made


def seed_share(share: int, count: int) -> float:
    """One seeding process's share of part 4's hour: made here (no ratings cross processes)
    and loaded 25 to a BatchWriteItem from LOAD_THREADS threads; seconds."""
    with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
        rng = random.Random(f"chain-{share}")
        made = 0
        took = 0.0
        while made < count:  # a piece at a time: bounded memory
            piece = chain_ratings(min(50_000, count - made), OPEN_HOUR, rng)
            took += load(piece)
            made += len(piece)
        return took


def seed_chain(count: int) -> float:
    """Part 4's hour loaded before its runs (a run reads only the slices up to its clock),
    from LOAD_PROCESSES processes; wall-clock seconds."""
    import multiprocessing

    shares = [count // LOAD_PROCESSES + (i < count % LOAD_PROCESSES) for i in range(LOAD_PROCESSES)]
    started = time.perf_counter()
    context = multiprocessing.get_context("spawn")  # no inherited DynamoDB client or pool
    with context.Pool(LOAD_PROCESSES) as pool:
        pool.starmap(seed_share, list(enumerate(shares)))
    return time.perf_counter() - started


def chain_stores(endpoint: str, name: str) -> list[str]:
    """A fresh table with the chain's stores; their ids."""
    from chalicelib.domain.survey import DEFAULT_SURVEY, Store
    from chalicelib.storage import stores

    use_table(name, endpoint, create=True)
    zones = list(STORES.values())
    ids = []
    for store in range(CHAIN_STORES):
        zone = zones[store % 4]
        store_id = chain_store_id(store)
        stores.put_store(
            Store(store_id=store_id, name=store_id, timezone=zone, survey=DEFAULT_SURVEY)
        )
        ids.append(store_id)
    for store_id in ids:  # warm, as a scheduled Lambda's container is between runs
        stores.get_store(store_id)
    return ids


def all_buckets(store_ids: list[str]) -> dict[tuple[str, str], dict[str, Any]]:
    from chalicelib.storage import aggregates

    start, end = OPEN_HOUR - TAP_SPREAD - 8 * 24 * HOUR, OPEN_HOUR + 2 * HOUR
    return {
        (store_id, granularity): {
            key: tally.model_dump()
            for key, tally in aggregates.bucket_tallies(store_id, granularity, start, end).items()
        }
        for store_id in store_ids
        for granularity in ("hour", "day", "week")
    }


def part_four(endpoint: str) -> None:
    from chalicelib.jobs.aggregate import LAG, RUN_BUDGET_S, SLICE, rebuild
    from chalicelib.storage import aggregates

    name = "bench-agg-chain"
    store_ids = chain_stores(endpoint, name)
    aggregates.advance_watermark(None, OPEN_HOUR)
    loading = seed_chain(CHAIN_HOUR)
    say(
        f"   {CHAIN_HOUR:,} arrivals over {CHAIN_STORES:,} stores x {CHAIN_KIOSKS} kiosks "
        f"loaded in {loading:.0f} s ({CHAIN_HOUR / loading:,.0f}/s, {LOAD_PROCESSES} processes)"
    )
    times: list[float] = []
    now, number, read = OPEN_HOUR, 0, 0
    done = OPEN_HOUR + HOUR + LAG + SLICE  # every slice of the hour is final by then
    say(f"   runs every {RUN_EVERY.seconds // 60} simulated minutes, budget {RUN_BUDGET_S:g} s:")
    while True:
        now += RUN_EVERY
        number += 1
        elapsed, run = timed(now)
        times.append(elapsed)
        read += run.ratings
        mark = aggregates.watermark_position()
        at = f"{mark.next_slice:%H:%M}" if mark else "-"
        if mark and mark.done_through:
            at += f" (stores through {mark.done_through})"
        say(
            f"   run {number:3} at {now:%H:%M}  {elapsed:5.1f} s  read {run.ratings:>7,} in "
            f"{run.slices:2} slices, {run.marked:>6,} repeat presses marked"
            f"{', out of time' if run.out_of_time else ''}; watermark {at}"
        )
        if now >= done and mark is not None and mark.next_slice >= OPEN_HOUR + HOUR:
            break
    longest = max(times)
    p95 = statistics.quantiles(times, n=20)[-1] if len(times) > 1 else longest
    say(
        f"   {len(times)} runs; seconds: longest {longest:.1f}, p95 {p95:.1f}, median "
        f"{statistics.median(times):.1f}   {verdict(longest, TIMEOUT_S * 0.8)}"
    )
    say(
        f"   aggregation time in all {sum(times):.0f} s ({CHAIN_HOUR / sum(times):,.0f} "
        f"arrivals/s; {read:,} read, {read / CHAIN_HOUR:.2f} per arrival)"
    )
    incremental = all_buckets(store_ids)
    total = sum(
        t["responses"] + t["filtered"]
        for (_, granularity), buckets in incremental.items()
        if granularity == "week"
        for t in buckets.values()
    )
    say(f"   buckets hold {total:,} ratings   {check(total == CHAIN_HOUR)}")
    started = time.perf_counter()
    rebuild(OPEN_HOUR, now)
    say(f"   rebuild of the hour  {time.perf_counter() - started:.0f} s")
    say(f"   every bucket equals the rebuild's   {check(all_buckets(store_ids) == incremental)}")
    drop(endpoint, name)


def drop(endpoint: str, *names: str) -> None:
    from devtools import dynamodb_local

    for name in names:
        dynamodb_local.client(endpoint).delete_table(TableName=name)


def main() -> None:
    with on_dynamodb_local() as endpoint:
        started = time.monotonic()
        # The Powertools logger binds sys.stdout at import: its lines go nowhere.
        with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
            if not PART_FOUR_ONLY:
                say(f"1. One run over {NEW:,} new ratings, without and with {HISTORY:,} aggregated")
                part_one(endpoint)
            if not PART_FOUR_ONLY:
                say(f"\n3. {LARGE:,} new ratings, runs one after another")
                part_two(endpoint)
            say(f"\n4. {CHAIN_HOUR:,} arrivals in one hour, aggregated across scheduled runs")
            part_four(endpoint)
        say(f"\n({time.monotonic() - started:.0f} s; Python {sys.version.split()[0]})")


if __name__ == "__main__":
    main()
    sys.exit(0)
