"""Scheduled aggregation against the real DynamoDB Local engine: a run costs what arrived
since the last run, not the history behind the watermark.

    .venv/bin/python -m benchmarks.aggregate              # from the repository root
    .venv/bin/python -m benchmarks.aggregate --quick      # a tenth of the ratings

1. O(new): one run over the same 10,000 new ratings (open hour, four stores in four time
   zones, tapped within the last days) in a table without history and in one holding 100,000
   older ratings that earlier runs aggregated (their arrival hours are behind the watermark).
   The first run of each table also merges the new taps into the kiosks' tap logs and marks
   the repeat presses they make (with history, some of older hours: those are recomputed).
2. Capacity of that run: read units (Query) and write units (PutItem) per new rating.
3. 100,000 new ratings in one run: time, ratings/s, partial writes, every rating counted.

Every scenario gets its own fresh table; ratings are loaded with BatchWriteItem, item for
item as put_rating writes them. Prints figures with PASS/FAIL; always exits 0.
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
HISTORY_HOURS = 48  # arrival hours before OPEN_HOUR that hold the history
ROUNDS = 5  # timed runs per table in part 1, the two tables interleaved
LOAD_THREADS = 8
BUDGET_RATIO = 1.2
OPS = ("Query", "PutItem", "GetItem", "UpdateItem")  # every call a run makes

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
        while pending:
            pending = ddb.batch_write_item(RequestItems=pending).get("UnprocessedItems")

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
    """A run before the new ratings: every arrival hour before OPEN_HOUR becomes final."""
    from chalicelib.storage import aggregates

    elapsed, _ = timed(SETTLED)
    if aggregates.watermark() != OPEN_HOUR:
        raise RuntimeError(f"watermark {aggregates.watermark()}, expected {OPEN_HOUR}")
    return elapsed


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
        totals[f"{model.name} units"] += parsed.get("ConsumedCapacity", {}).get("CapacityUnits", 0)

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
    say(f"   history aggregated by one run in {settle():.0f} s; watermark now {OPEN_HOUR:%H:%M}")
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
        cap = capacity(NOW)
        per = {op: cap.get(f"{op} units", 0) / cap["ratings"] for op in ("Query", "PutItem")}
        calls = ", ".join(f"{op} {cap[k]:.0f}" for op in OPS if (k := f"{op} calls") in cap)
        say(f"   {label}  {per['Query']:.4f} RCU and {per['PutItem']:.4f} WCU per new rating")
        say(f"                    calls: {calls}")
    drop(endpoint, fresh, history)


def part_two(endpoint: str) -> None:
    name = "bench-agg-large"
    use_table(name, endpoint, create=True)
    settle()
    took = load(make_ratings(LARGE, OPEN_HOUR, NOW - OPEN_HOUR))
    say(f"   {LARGE:,} ratings, all arrived in the open hour, loaded in {took:.0f} s")
    elapsed, run = timed(NOW)
    total = counted()
    say(f"   one run  {elapsed:.1f} s, {run.ratings / elapsed:,.0f} ratings/s")
    say(f"   partials written  {run.partials}")
    say(f"   the run counted {run.ratings:,}   {check(run.ratings == LARGE)}")
    say(f"   hour buckets hold {total:,} (responses + filtered)   {check(total == LARGE)}")
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
            say(f"1. One run over {NEW:,} new ratings, without and with {HISTORY:,} aggregated")
            part_one(endpoint)
            say(f"\n3. {LARGE:,} new ratings in one run")
            part_two(endpoint)
        say(f"\n({time.monotonic() - started:.0f} s; Python {sys.version.split()[0]})")


if __name__ == "__main__":
    main()
    sys.exit(0)
