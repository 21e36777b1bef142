"""Kiosk ingest under load: P processes, each a warm Lambda container, against DynamoDB Local.

    .venv/bin/python -m benchmarks.load            # 60 s per run, from the repository root
    .venv/bin/python -m benchmarks.load --quick    # 5 s per run, to see that it runs

Each process imports the app once and invokes it, back to back, with API Gateway REST proxy
events of POST /v1/kiosk/ratings (benchmarks/ingest.py builds them), batches of 10 new
ratings from kiosks drawn at random. Two cases, each at 1, 2 and 4 processes:

- spread: 1,000 kiosks across 100 stores;
- hot store: the same 1,000 kiosks, every one in one store.

Prints per run: requests/s and ratings/s (all processes together), p50/p95/p99 of a
request's time in the handler, errors (any answer but 200 with every rating `stored`), the
write units DynamoDB Local reported (ReturnConsumedCapacity, table and index) per rating and
per second, the share of the handler's time spent waiting for DynamoDB Local, and the CPU the
processes and DynamoDB Local used (cores, and ms per request); then throughput at 2 and 4
processes relative to 1. DynamoDB Local has no partitions and never throttles: the hot-store
case shows the app's side of one busy store, the partition arithmetic is in
docs/data-model.md. Not a test: no budget, always exits 0.
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
import random
import statistics
import sys
import threading
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks.common import ENV, QUICK

TABLE = "storepulse-load"
DURATION_S = 5.0 if QUICK else 60.0
WARMUP_S = 2.0 if QUICK else 10.0  # DynamoDB Local's, before the runs (not reported)
PROCESSES = (1, 2, 4)
BATCH = 10
KIOSKS = 1000
STORES = 100
CASES = {"spread": STORES, "hot store": 1}  # case -> how many stores the kiosks are in
ARRIVAL_SHARDS = 4  # the arrivals index's partitions per hour (docs/data-model.md)
PARTITION_WCU_S = 1000  # DynamoDB's write ceiling of one partition


def kiosks(stores: int) -> list[tuple[str, str]]:
    """(kiosk id, store id) of the case's kiosks, dealt evenly across its stores."""
    return [(f"k-load-{n:04d}", f"store-load-{n % stores:03d}") for n in range(KIOSKS)]


def ratings(rng: random.Random, now: datetime) -> list[dict[str, Any]]:
    """A kiosk's batch: taps 20-60 s apart (no repeat presses) within the last minutes."""
    tapped = now - timedelta(minutes=10)
    batch = []
    for _ in range(BATCH):
        tapped += timedelta(seconds=rng.randint(20, 60))
        batch.append(
            {
                "rating_id": str(uuid.uuid4()),
                "score": rng.randint(1, 5),
                "tapped_at": tapped.isoformat(timespec="milliseconds"),
                "locale": "en",
            }
        )
    return batch


# --- a worker: one warm container -------------------------------------------------------


def worker(stores: int, seed: int, duration: float, go: Any, start_at: Any, results: Any) -> None:
    """Import the app, warm it on every store of the case, say so (`results`), then, once
    `go` is set, invoke it back to back from `start_at` for `duration` seconds; puts its
    figures on `results`."""
    sys.dont_write_bytecode = True
    with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
        from app import app
        from benchmarks.ingest import lambda_context, proxy_event
        from chalicelib.auth import issue_kiosk_token
        from chalicelib.storage import dynamodb

        rng = random.Random(seed)
        now = datetime.now(UTC)
        tokens = [issue_kiosk_token(k, s, now) for k, s in kiosks(stores)]
        units = Counter[str]()

        def ask_capacity(params: dict[str, Any], **_: Any) -> None:
            params["ReturnConsumedCapacity"] = "INDEXES"

        def consumed(parsed: dict[str, Any], **_: Any) -> None:
            for used in _capacities(parsed):
                units["wcu"] += used.get("CapacityUnits", 0)
                units["index_wcu"] += sum(
                    i.get("CapacityUnits", 0)
                    for i in used.get("GlobalSecondaryIndexes", {}).values()
                )

        # Ingest writes a batch's ratings from several threads at once: what counts is the
        # time at least one call is waiting for DynamoDB Local, not the calls' sum.
        waiting = {"calls": 0, "since": 0.0}
        lock = threading.Lock()

        def before_send(**_: Any) -> None:
            with lock:
                if waiting["calls"] == 0:
                    waiting["since"] = time.perf_counter()
                waiting["calls"] += 1

        def received(**_: Any) -> None:
            with lock:
                waiting["calls"] -= 1
                if waiting["calls"] == 0:
                    units["ddb_ms"] += (time.perf_counter() - waiting["since"]) * 1000

        def request(token: str) -> tuple[float, str, int, str]:
            """ms in the handler, the outcome, ratings stored, the body (for errors)."""
            moment = datetime.now(UTC)
            event = proxy_event(
                token, {"sent_at": moment.isoformat(), "ratings": ratings(rng, moment)}, moment
            )
            started = time.perf_counter()
            response = app(event, lambda_context())
            elapsed = (time.perf_counter() - started) * 1000
            body = response["body"]
            if response["statusCode"] != 200:
                return elapsed, str(response["statusCode"]), 0, body
            statuses = Counter(r["status"] for r in json.loads(body)["results"])
            outcome = "ok" if statuses["stored"] == BATCH else f"200 {dict(statuses)}"
            return elapsed, outcome, statuses["stored"], body

        for n in range(stores):  # each store's profile cached, as in a container long warm
            request(tokens[n])
        events = dynamodb.client().meta.events
        for name in ("PutItem", "BatchWriteItem", "TransactWriteItems"):
            events.register(f"provide-client-params.dynamodb.{name}", ask_capacity)
        events.register("after-call.dynamodb", consumed)
        events.register("before-send.dynamodb", before_send)
        events.register("response-received.dynamodb", received)

        results.put("ready")
        go.wait()
        while time.time() < start_at.value:
            time.sleep(0.001)
        cpu = time.process_time()
        end = start_at.value + duration
        latencies: list[float] = []
        outcomes = Counter[str]()
        samples: dict[str, str] = {}  # the first answer of each kind of error
        stored = 0
        while time.time() < end:
            elapsed, outcome, count, body = request(rng.choice(tokens))
            latencies.append(elapsed)
            outcomes[outcome] += 1
            stored += count
            if outcome != "ok":
                samples.setdefault(outcome, body[:300])
        results.put(
            {
                "latencies": latencies,
                "outcomes": dict(outcomes),
                "samples": samples,
                "stored": stored,
                "units": dict(units),
                "cpu_s": time.process_time() - cpu,
                "finished_at": time.time(),
            }
        )


def _capacities(parsed: dict[str, Any]) -> list[dict[str, Any]]:
    used = parsed.get("ConsumedCapacity")
    if used is None:
        return []
    return used if isinstance(used, list) else [used]


# --- the runs ---------------------------------------------------------------------------


def java_cpu_s(pid: int) -> float:
    """CPU seconds (user + system) DynamoDB Local's JVM has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run(case: str, processes: int, java_pid: int, duration: float = DURATION_S) -> dict[str, Any]:
    context = multiprocessing.get_context("spawn")  # a fresh interpreter: a new container
    results, go, start_at = context.Queue(), context.Event(), context.Value("d", 0.0)
    workers = [
        context.Process(
            target=worker,
            args=(CASES[case], 1000 * processes + n, duration, go, start_at, results),
        )
        for n in range(processes)
    ]
    for process in workers:
        process.start()
    for _ in workers:  # every container imported and warm before the clock starts
        if results.get(timeout=300) != "ready":
            raise RuntimeError("a worker failed to start")
    start_at.value = time.time() + 0.2
    go.set()
    while time.time() < start_at.value:
        time.sleep(0.001)
    load = os.getloadavg()[0]  # the machine's, others' work included
    java_before = java_cpu_s(java_pid)
    figures = [results.get(timeout=duration + 120) for _ in workers]
    java_used = java_cpu_s(java_pid) - java_before
    for process in workers:
        process.join(timeout=30)
    late = max(f["finished_at"] for f in figures) - start_at.value  # the last request's end
    latencies = sorted(v for f in figures for v in f["latencies"])
    outcomes = sum((Counter(f["outcomes"]) for f in figures), Counter[str]())
    units = sum((Counter(f["units"]) for f in figures), Counter[str]())
    requests = len(latencies)
    stored = sum(f["stored"] for f in figures)
    samples = {k: v for f in figures for k, v in f["samples"].items()}
    cuts = statistics.quantiles(latencies, n=100)
    return {
        "case": case,
        "processes": processes,
        "requests": requests,
        "requests_s": requests / late,
        "ratings_s": stored / late,
        "p50": cuts[49],
        "p95": cuts[94],
        "p99": cuts[98],
        "errors": {k: v for k, v in outcomes.items() if k != "ok"},
        "samples": samples,
        "load": load,
        "wcu_rating": units["wcu"] / max(stored, 1),
        "index_wcu_rating": units["index_wcu"] / max(stored, 1),
        "wcu_s": units["wcu"] / late,
        "index_wcu_s": units["index_wcu"] / late,
        "ddb_share": units["ddb_ms"] / sum(latencies),
        "cpu_workers": sum(f["cpu_s"] for f in figures) / late,
        "cpu_java": java_used / late,
    }


def report(rows: list[dict[str, Any]]) -> None:
    rows = sorted(rows, key=lambda row: (list(CASES).index(row["case"]), row["processes"]))
    print(
        f"\nKiosk ingest under load: {DURATION_S:g} s per run, batches of {BATCH}, "
        f"{KIOSKS} kiosks; DynamoDB Local on loopback, {os.cpu_count()} cores"
    )
    print(
        f"   {'case':<9} {'P':>2} {'req/s':>7} {'ratings/s':>9} {'p50 ms':>7} {'p95':>6} "
        f"{'p99':>6} {'errors':>6} {'WCU/rating':>10} {'WCU/s':>7}   {'in DDB':>6}"
        f"   {'CPU app':>7} {'DDB':>5}   {'ms/req app':>10} {'DDB':>5}"
    )
    for row in rows:
        errors = sum(row["errors"].values())
        per_request = 1000 / max(row["requests_s"], 1e-9)
        print(
            f"   {row['case']:<9} {row['processes']:>2} {row['requests_s']:7.1f} "
            f"{row['ratings_s']:9.1f} {row['p50']:7.1f} {row['p95']:6.1f} {row['p99']:6.1f} "
            f"{errors:>6} {row['wcu_rating']:10.2f} {row['wcu_s']:7.0f}   "
            f"{row['ddb_share']:6.0%}   {row['cpu_workers']:7.2f} {row['cpu_java']:5.2f}   "
            f"{row['cpu_workers'] * per_request:10.1f} {row['cpu_java'] * per_request:5.1f}"
        )
        if errors:
            print(f"      errors: {row['errors']}")
            for outcome, body in row["samples"].items():
                print(f"      {outcome}: {body}")
    loads = ", ".join(f"{row['load']:.1f}" for row in rows)
    print(
        "   in DDB: share of the handler's time spent waiting for DynamoDB Local's answers."
        "\n   CPU: cores used on average by the P processes and by DynamoDB Local's JVM;"
        " ms/req: CPU time per request of each."
        f"\n   1-minute load average at the runs' starts (others' work included): {loads}"
    )
    print("\n   throughput relative to 1 process (ratings/s):")
    for case in CASES:
        base = next(r for r in rows if r["case"] == case and r["processes"] == 1)["ratings_s"]
        ratios = ", ".join(
            f"{r['processes']}: {r['ratings_s'] / base:.2f}x" for r in rows if r["case"] == case
        )
        print(f"   {case:<9} {ratios}")
    peak = max(rows, key=lambda r: r["ratings_s"])
    shard = peak["index_wcu_s"] / ARRIVAL_SHARDS
    print(
        f"\n   capacity: {peak['wcu_rating']:.2f} WCU per rating "
        f"({peak['index_wcu_rating']:.2f} of it the arrivals index entry); at the peak "
        f"({peak['case']}, {peak['processes']} processes) {peak['wcu_s']:.0f} WCU/s, of which "
        f"{peak['index_wcu_s']:.0f} on the arrivals index: {shard:.0f} WCU/s on each of its "
        f"{ARRIVAL_SHARDS} shards of the hour, {shard / PARTITION_WCU_S:.0%} of a partition's "
        f"{PARTITION_WCU_S} WCU/s. The table's items are keyed by rating id, so a hot store "
        "adds no hot partition of its own."
    )


def main() -> None:
    sys.dont_write_bytecode = True
    os.environ.update(ENV | {"STOREPULSE_TABLE_NAME": TABLE})
    from devtools import dynamodb_local

    server = dynamodb_local.start()
    started = time.monotonic()
    try:
        os.environ["STOREPULSE_DYNAMODB_ENDPOINT"] = server.endpoint
        dynamodb_local.create_table(dynamodb_local.client(server.endpoint), TABLE)
        with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
            from chalicelib.domain.survey import DEFAULT_SURVEY, Store
            from chalicelib.storage import stores

            for store_id in sorted({s for case in CASES.values() for _, s in kiosks(case)}):
                stores.put_store(
                    Store(
                        store_id=store_id,
                        name=f"Load store {store_id}",
                        timezone="America/New_York",
                        country="US",
                        survey=DEFAULT_SURVEY,
                    )
                )
        # DynamoDB Local's JVM compiles its hot paths over the first thousands of writes: a
        # run nobody reports comes first, so the first reported one is not the slowest.
        run("spread", 2, server.process.pid, WARMUP_S)
        rows = []
        for processes in PROCESSES:  # the cases side by side, as the machine's load drifts
            for case in CASES:
                rows.append(run(case, processes, server.process.pid))
                print(
                    f"   {case}, {processes} processes: {rows[-1]['ratings_s']:.0f} ratings/s",
                    flush=True,
                )
        report(rows)
    finally:
        server.stop()
    print(f"\n({time.monotonic() - started:.0f} s; Python {sys.version.split()[0]})")


if __name__ == "__main__":
    main()
    sys.exit(0)
