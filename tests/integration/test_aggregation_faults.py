"""The scheduled aggregation and its callback flagging under DynamoDB faults (the fault proxy
in front of DynamoDB Local, at 30 % of every operation): run again and again until a run
completes, the buckets (hour, day, week) and the callback tasks equal those of a fault-free
run over the same ratings. And the lost answer of the watermark's write, one fault on one
call: the run finds its own write done and goes on."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.retries.standard import ExponentialBackoff

from chalicelib.domain.aggregates import GRANULARITIES
from chalicelib.domain.consent import KIOSK_CALLBACK_VERSION
from chalicelib.domain.ratings import Rating
from chalicelib.errors import DependencyUnavailable
from chalicelib.jobs import aggregate as aggregate_job
from chalicelib.jobs.aggregate import LAG, SLICE, aggregate, floor_slice, rebuild
from chalicelib.jobs.flagging import flag_kiosk_callbacks, follow_up
from chalicelib.notify import topics
from chalicelib.storage import aggregates, ratings, stores, tasks
from chalicelib.storage.dynamodb import batch_write
from devtools import dynamodb_local
from devtools.fault_proxy import Fault, FaultProxy
from tests.conftest import make_store, reset_caches

START = datetime(2026, 11, 20, 17, 50, tzinfo=UTC)  # the watermark: the first slice read
FIRST_RUN = datetime(2026, 11, 20, 18, 8, tzinfo=UTC)  # while the ratings still arrive
LAST_RUN = datetime(2026, 11, 20, 18, 40, tzinfo=UTC)  # every slice with ratings is final
MODES = ("throttle", "error_500", "after_500", "drop", "after_drop")
MAX_RUNS = 40  # a run under 30 % faults gets through a few slices before one call fails
WINDOW = (START - timedelta(days=10), LAST_RUN + timedelta(days=1))


@pytest.fixture(autouse=True)
def quick_throttle_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """botocore waits up to 1 s, 2 s ... after a throttle; these tests compare what was
    stored, not how long it took, so they wait as long as after any other error."""
    monkeypatch.setitem(ExponentialBackoff._DEFAULT_BACKOFF_CONFIG, "throttling_base_scale", 0.05)


@pytest.fixture(autouse=True)
def fewer_shards(monkeypatch: pytest.MonkeyPatch) -> None:
    """Three arrival shards, not fifteen: each slice read is a Query per shard, and what is
    tested (a failed shard asked again, a failed read failing the run) needs a few, not a
    chain's peak; a fifth of the reads under faults (the test took 200 s under load)."""
    monkeypatch.setattr(ratings, "ARRIVAL_SHARDS", 3)


def history() -> list[Rating]:
    """Ratings of two stores arriving 17:50-18:12: unhappy ones asking for a call (one
    customer twice: one task), late taps of days ago, and repeat presses that cross a slice
    boundary and arrive on both sides of the first run."""
    made: list[Rating] = []

    def add(store_id: str, score: int, tapped: datetime, arrived: datetime, **extra: Any) -> None:
        made.append(
            Rating(
                rating_id=str(uuid.UUID(int=len(made) + 1)),
                store_id=store_id,
                channel=extra.pop("channel", "kiosk"),
                source_id=extra.pop("source_id", f"k-{store_id}-{len(made) % 3}"),
                survey_id="default-smiley-5",
                score=score,
                tapped_at=tapped,
                received_at=arrived,
                **extra,
            )
        )

    for minute in range(0, 24, 2):
        arrived = START + timedelta(minutes=minute, seconds=7)
        store_id = ("store-a", "store-b")[minute % 4 // 2]
        add(store_id, 1 + minute % 5, arrived - timedelta(seconds=3), arrived, reasons=["staff"])
    for days in (1, 3):  # an offline kiosk's late taps
        arrived = START + timedelta(minutes=11)
        add("store-a", 2, arrived - timedelta(days=days), arrived, source_id="k-offline")
    add("store-b", 5, START, START + timedelta(minutes=3), channel="sms", source_id="sms-1")
    for n, phone in enumerate(("+14155550101", "+14155550102", "+14155550101")):
        arrived = START + timedelta(minutes=3 + 6 * n, seconds=30)
        contact = {"phone": phone, "name": "Ana", "consent_version": KIOSK_CALLBACK_VERSION}
        add("store-a", 1 + n % 2, arrived - timedelta(seconds=5), arrived, contact=contact)
    # Someone pressing again and again across the 18:05 slice boundary (and the first run).
    for second in (-8, -2, 4, 10):
        tapped = datetime(2026, 11, 20, 18, 5, tzinfo=UTC) + timedelta(seconds=second)
        late = timedelta(seconds=1 if second < 0 else 400)  # after the first run's last slice
        add("store-b", 1, tapped, tapped + late, source_id="k-kid")
    return made


def use_table(endpoint: str, stored: list[Rating]) -> str:
    """A fresh table holding the stores and these ratings (no fault on)."""
    import os

    table = f"storepulse-{uuid.uuid4().hex[:8]}"
    os.environ["STOREPULSE_TABLE_NAME"] = table
    reset_caches()
    dynamodb_local.create_table(dynamodb_local.client(endpoint), table)
    for store_id in ("store-a", "store-b"):
        stores.put_store(make_store(store_id))
    # 25 to a BatchWriteItem, item for item as put_rating writes them: the setup is not
    # what is tested, and 40 PutItems through the proxy were a tenth of the test's time.
    for index in range(0, len(stored), 25):
        batch_write(
            [{"PutRequest": {"Item": ratings.rating_item(r)}} for r in stored[index : index + 25]]
        )
    aggregates.advance_watermark(None, START)
    return table


def scheduled(now: datetime) -> Any:
    """One scheduled run as app.py wires it: aggregation with kiosk callbacks flagged."""
    return aggregate(now, flag=lambda rating_ids: flag_kiosk_callbacks(rating_ids, now))


def figures() -> dict[str, Any]:
    """Every bucket of both stores and every callback task (without its times)."""
    buckets = {
        f"{store_id}/{granularity}": {
            start: tally.model_dump()
            for start, tally in aggregates.bucket_tallies(store_id, granularity, *WINDOW).items()
        }
        for store_id in ("store-a", "store-b")
        for granularity in GRANULARITIES
    }
    found = sorted(
        (task.store_id, task.status, task.priority, tuple(r.rating_id for r in task.ratings))
        for store_id in ("store-a", "store-b")
        for status in ("open", "claimed", "resolved")
        for task in tasks.tasks_of(store_id, status)  # type: ignore[arg-type]
    )
    return {"buckets": buckets, "tasks": found}


def until_complete(now: datetime, proxy: FaultProxy, faults: list[Fault]) -> int:
    """Scheduled runs at `now` under `faults` until one ends without an error with the
    watermark where a fault-free run leaves it: how many runs it took."""
    target = floor_slice(now - LAG - SLICE) + SLICE
    for attempt in range(1, MAX_RUNS + 1):
        proxy.set_faults(faults)
        try:
            scheduled(now)
        except DependencyUnavailable:
            continue
        finally:
            proxy.clear()  # what the run left is read without faults
        if aggregates.watermark() == target:
            return attempt
    raise AssertionError(f"no run completed in {MAX_RUNS}")


_CLEAN: list[dict[str, Any]] = []


@pytest.fixture
def clean(faulty_storage: FaultProxy) -> dict[str, Any]:
    """The figures of fault-free runs over the history (a table of their own), computed
    once: the history is the same for every mode."""
    if not _CLEAN:
        use_table(faulty_storage.endpoint, history())
        scheduled(FIRST_RUN)
        scheduled(LAST_RUN)
        _CLEAN.append(figures())
    return _CLEAN[0]


@pytest.mark.parametrize("mode", MODES)
def test_runs_under_faults_end_with_the_figures_and_tasks_of_a_clean_run(
    faulty_storage: FaultProxy, clean: dict[str, Any], mode: str
) -> None:
    use_table(faulty_storage.endpoint, history())
    topics.PUBLISHED.clear()
    faults = [Fault(mode, 0.3)]
    before = injected(faulty_storage, mode)
    faulty_storage.set_faults([], seed=13)

    runs = [until_complete(moment, faulty_storage, faults) for moment in (FIRST_RUN, LAST_RUN)]
    count = injected(faulty_storage, mode) - before
    under_faults = figures()
    rebuild(START, LAST_RUN)

    print(f"\n{mode}: runs {runs[0]} + {runs[1]}, {count} faults injected")
    assert under_faults["tasks"] == clean["tasks"]
    assert under_faults["buckets"] == clean["buckets"]
    assert figures() == clean  # and a rebuild agrees
    assert len(clean["tasks"]) == 2
    assert count > 0
    # A task's notification whose claim got no answer is released and left to the scheduled
    # follow-up ("tasks not yet notified"), as in the deployed stack: then each is sent.
    follow_up(LAST_RUN)
    created = Counter(
        m["attributes"]["kind"] for m in topics.PUBLISHED if m["topic"] == "callbacks"
    )
    assert created["callback_task"] == 2  # at least once each, and at most once


def injected(proxy: FaultProxy, mode: str) -> int:
    """How many faults of `mode` the proxy injected since it started."""
    return sum(e["count"] for e in proxy.plan.report()["injected"] if e["mode"] == mode)


def test_a_lost_answer_to_the_watermark_write_is_found_done_and_the_run_goes_on(
    faulty_storage: FaultProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The UpdateItem that moves the watermark succeeds but its answer is a 500, once: the
    client's retry finds the watermark already there, and the run reads on (before: the
    retry's condition failed, 'another run moved the watermark; stopping', the slices it
    had counted were left unfinalised and each run moved one chunk at most)."""
    for minute in (1, 7, 13):
        arrived = START + timedelta(minutes=minute)
        ratings.put_rating(
            Rating(
                rating_id=str(uuid.uuid4()),
                store_id="store-a",
                channel="kiosk",
                source_id="k-1",
                survey_id="default-smiley-5",
                score=4,
                tapped_at=arrived - timedelta(seconds=5),
                received_at=arrived,
            )
        )
    aggregates.advance_watermark(None, START)
    monkeypatch.setattr(aggregate_job, "CHUNK_RATINGS", 1)  # a chunk, and a watermark write, each
    answers_lost = _lose_the_answer_of_the_next_watermark_write(faulty_storage, monkeypatch)

    run = aggregate(FIRST_RUN)

    assert answers_lost() == 1
    assert aggregates.watermark() == floor_slice(FIRST_RUN - LAG - SLICE) + SLICE
    assert (run.ratings, run.out_of_time) == (3, False)
    tallies = aggregates.bucket_tallies("store-a", "day", *WINDOW)
    assert sum(t.responses for t in tallies.values()) == 3


def _lose_the_answer_of_the_next_watermark_write(
    proxy: FaultProxy, monkeypatch: pytest.MonkeyPatch
) -> Any:
    """While the watermark is written, the proxy answers the first UpdateItem with a 500
    after doing it (one fault, one call); returns how many it injected."""
    plan = proxy.plan
    choose = plan.choose
    advance = aggregates.advance_watermark
    lost = Counter[str]()

    def once(operation: str) -> str | None:
        fault = None if lost else choose(operation)
        if fault:
            lost[fault] += 1
        return fault

    def advance_with_fault(past: datetime | None, to: datetime) -> bool:
        proxy.set_faults([Fault("after_500", 1.0, frozenset({"UpdateItem"}))])
        try:
            return advance(past, to)
        finally:
            proxy.clear()

    monkeypatch.setattr(plan, "choose", once)
    monkeypatch.setattr(aggregates, "advance_watermark", advance_with_fault)
    return lambda: lost["after_500"]
