"""Kiosk ingest under DynamoDB faults (the fault proxy in front of DynamoDB Local, at 30 % of
PutItem calls, each mode in turn): a kiosk-like client that resends only what it must drains
its queue within a bound, nothing is lost, nothing counts twice, no answer is a 500; and a
stalled PutItem cannot make a request outlive its deadline.

The app's client is set to make one attempt per call (STOREPULSE_DYNAMODB_ATTEMPTS=1), so
botocore's own retries hide no fault: every one reaches the ingest as a failed write. Run
with `-s` to see one line of figures per mode.
"""

from __future__ import annotations

import json
import random
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from chalice.test import Client

from chalicelib.auth import issue_kiosk_token
from chalicelib.config import Settings, settings
from chalicelib.storage import dynamodb
from chalicelib.storage.ratings import every_rating
from devtools import dynamodb_local
from devtools.fault_proxy import MODES, Fault, FaultProxy
from devtools.stack_process import ROOT
from tests.conftest import bearer, iso, kiosk_rating, now, rating_batch, reset_caches
from tests.contract import checked
from tests.integration.callers import post

pytestmark = pytest.mark.integration

RATINGS = 300
FAULT_RATE = 0.3
BATCH_SIZES = (10, 25)
# At 30 % a rating's write fails k rounds in a row with probability 0.3^k: after 12 rounds,
# about 1 in 2 million; 300 ratings all drain with odds of about 4,000 to 1 per mode.
MAX_ROUNDS = 12
MAX_DRAIN_S = 60  # per mode, on a busy 2-core machine; it takes a few seconds
RETRY_AFTER_SCALE = 0.01  # the client waits Retry-After / 100 (5 s: 50 ms)
READ_TIMEOUT_S = 0.3
STALL_S = 1.0  # beyond the read timeout
# Short, so the stall runs take seconds: one call's worst case is 0.3 + 0.3 = 0.6 s.
QUICK = {
    "STOREPULSE_DYNAMODB_ATTEMPTS": "1",
    "STOREPULSE_DYNAMODB_CONNECT_TIMEOUT_S": "0.3",
    "STOREPULSE_DYNAMODB_READ_TIMEOUT_S": str(READ_TIMEOUT_S),
    "STOREPULSE_INGEST_DEADLINE_S": "2",
}
FIGURES: list[str] = []


@pytest.fixture
def app_through_faults(
    faulty_storage: FaultProxy, dynamodb_local_server: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Any, FaultProxy, Any]]:
    """The app (chalice's test client, every answer held to the OpenAPI document) on a fresh
    table behind the fault proxy, with the quick DynamoDB settings above; the proxy; and a
    client of DynamoDB Local itself, for the test's own reads."""
    for name, value in QUICK.items():
        monkeypatch.setenv(name, value)
    reset_caches()
    monkeypatch.setattr(faulty_storage.plan, "stall_s", STALL_S)
    from app import app

    with Client(app) as client:
        checked(client.http)
        yield client, faulty_storage, dynamodb_local.client(dynamodb_local_server)


@dataclass
class Drain:
    """What a kiosk-like client saw while its queue drained."""

    sent: int
    rounds: int = 0
    seconds: float = 0.0
    requests: Counter[int] = field(default_factory=Counter)  # by status
    results: Counter[str] = field(default_factory=Counter)  # by rating status
    left: list[dict[str, Any]] = field(default_factory=list)


def drain(api: Any, headers: dict[str, str], queue: list[dict[str, Any]], seed: int) -> Drain:
    """Send the queue as a kiosk does, in batches of 10 to 25: keep the ratings answered
    `retry` and those of a batch answered 503, drop the others, wait Retry-After (scaled
    down) and send what is left again, the same rating ids, until nothing is left."""
    rng = random.Random(seed)
    seen = Drain(sent=len(queue))
    started = time.monotonic()
    while queue and seen.rounds < MAX_ROUNDS:
        seen.rounds += 1
        kept: list[dict[str, Any]] = []
        wait = 0
        while queue:
            size = rng.randint(*BATCH_SIZES)
            batch, queue = queue[:size], queue[size:]
            response = post(api, headers, rating_batch(*batch))
            seen.requests[response.status_code] += 1
            assert response.status_code in (200, 503), response.body
            if response.status_code == 503:
                # Every rating's status; none at all when the request failed before the
                # ratings (reading the store or the revocation list timed out).
                details = response.json_body["error"]["details"]
                if details:
                    assert [d["rating_id"] for d in details] == [r["rating_id"] for r in batch]
                    assert {d["status"] for d in details} == {"retry"}
                seen.results["503"] += len(batch)
                kept += batch
                wait = max(wait, int(response.headers["Retry-After"]))
                continue
            results = response.json_body["results"]
            assert [r["rating_id"] for r in results] == [r["rating_id"] for r in batch]
            for rating, result in zip(batch, results, strict=True):
                seen.results[result["status"]] += 1
                if result["status"] == "retry":
                    kept.append(rating)
            if any(r["status"] == "retry" for r in results):
                wait = max(wait, int(response.headers["Retry-After"]))
            else:
                assert "Retry-After" not in response.headers
        queue = kept
        if queue:
            time.sleep(wait * RETRY_AFTER_SCALE)  # the client honours Retry-After, scaled
    seen.seconds = time.monotonic() - started
    seen.left = queue
    return seen


def a_kiosks_backlog(count: int) -> list[dict[str, Any]]:
    """Ratings tapped 20 s apart (no repeat presses), the latest a minute ago."""
    start = now() - timedelta(seconds=60 + 20 * count)
    return [kiosk_rating(tapped_at=iso(start + timedelta(seconds=20 * i))) for i in range(count)]


def in_the_table(direct: Any) -> tuple[Counter[str], int]:
    """The stored ratings' ids (each with its count of items) and the number of entries in
    the arrivals index, read past the proxy (the test's reads are not the app's)."""
    table = dynamodb.table_name()
    stored = Counter(rating.rating_id for rating in every_rating(ddb=direct, table=table))
    counted, request = 0, {"IndexName": "arrivals", "Select": "COUNT"}
    while True:
        page = direct.scan(TableName=table, **request)
        counted += page["Count"]
        if "LastEvaluatedKey" not in page:
            return stored, counted
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


@pytest.mark.parametrize("mode", MODES)
def test_a_retrying_kiosk_drains_under_faults_with_nothing_lost_or_doubled(
    app_through_faults: tuple[Any, FaultProxy, Any], mode: str
) -> None:
    api, proxy, direct = app_through_faults
    headers = bearer(_kiosk_token())
    backlog = a_kiosks_backlog(RATINGS)
    proxy.set_faults([Fault(mode, FAULT_RATE, frozenset({"PutItem"}))], seed=13)

    seen = drain(api, headers, list(backlog), seed=13)

    proxy.clear()
    stored, entries = in_the_table(direct)
    sent = {r["rating_id"] for r in backlog}
    lost = len(sent - set(stored))
    doubled = sum(count - 1 for count in stored.values()) + max(0, entries - len(stored))
    FIGURES.append(
        f"{mode:>11}: sent {RATINGS}, stored {len(stored)}, lost {lost}, doubled {doubled}, "
        f"rounds {seen.rounds}, {seen.seconds:.1f} s to drain; requests {dict(seen.requests)}, "
        f"results {dict(seen.results)}"
    )
    print("\n" + FIGURES[-1])
    assert seen.left == [], f"{len(seen.left)} ratings still queued after {MAX_ROUNDS} rounds"
    assert seen.seconds < MAX_DRAIN_S
    assert 500 not in seen.requests
    assert set(stored) == sent
    assert lost == 0
    assert doubled == 0
    assert entries == RATINGS  # the arrivals index: one entry per rating
    assert seen.results["retry"] + seen.results["503"] > 0, "the faults reached the ingest"
    if mode in ("after_500", "after_drop"):
        # Written, then answered as failed: the resend found it stored.
        assert seen.results["duplicate"] > 0


@pytest.mark.parametrize(("probability", "statuses"), [(1.0, {503}), (0.4, {200})])
def test_a_stalled_write_cannot_make_a_batch_outlive_its_deadline(
    app_through_faults: tuple[Any, FaultProxy, Any],
    monkeypatch: pytest.MonkeyPatch,
    probability: float,
    statuses: set[int],
) -> None:
    api, proxy, direct = app_through_faults
    # Two attempts a call: 0.6 s each and up to 1 s of backoff, 2.2 s at worst; a deadline
    # of 3 s lets writes start only in its first 0.8 s.
    monkeypatch.setenv("STOREPULSE_DYNAMODB_ATTEMPTS", "2")
    monkeypatch.setenv("STOREPULSE_INGEST_DEADLINE_S", "3")
    reset_caches()
    deadline = settings().ingest_deadline_s
    proxy.set_faults([Fault("stall", probability, frozenset({"PutItem"}))], seed=7)
    before = _stalls(proxy)
    batch = a_kiosks_backlog(60)  # more writes than can start: 10 at a time, 0.6 s or more

    started = time.monotonic()
    response = post(api, bearer(_kiosk_token()), rating_batch(*batch))
    took = time.monotonic() - started

    proxy.clear()
    assert response.status_code in statuses
    assert took < deadline + 0.5, f"{took:.2f} s for a {deadline:g} s deadline"
    print(
        f"\nstall at {probability:.0%} of PutItem: answered {response.status_code} in {took:.2f} s"
    )
    if response.status_code == 503:
        results = response.json_body["error"]["details"]
    else:
        results = response.json_body["results"]
        assert response.headers["Retry-After"] == str(settings().retry_after_s)
    statuses_seen = Counter(r["status"] for r in results)
    assert statuses_seen["retry"] > 0
    stored = set(in_the_table(direct)[0])
    assert stored >= {r["rating_id"] for r in results if r["status"] == "stored"}
    if probability == 1.0:
        # Not every write was tried: the deadline stopped new ones (two attempts each).
        assert _stalls(proxy) - before < 2 * len(batch)
    else:
        assert statuses_seen["stored"] > 0


def test_the_lambda_timeout_exceeds_the_ingest_deadline() -> None:
    chalice_config = json.loads((ROOT / "functions" / ".chalice" / "config.json").read_text())
    defaults = Settings(table_name="t")
    timeouts = [chalice_config["lambda_timeout"]] + [
        stage["lambda_timeout"]
        for stage in chalice_config.get("stages", {}).values()
        if "lambda_timeout" in stage
    ]

    assert defaults.dynamodb_worst_call_s == 12
    assert defaults.ingest_deadline_s == 20
    # The answer is out by the deadline (plus a cold start), inside API Gateway's 29 s.
    assert all(timeout > defaults.ingest_deadline_s + 5 for timeout in timeouts)
    assert "Timeout:" not in (ROOT / "infra" / "resources.yaml").read_text()


def test_settings_that_leave_no_room_for_one_call_fail_at_start() -> None:
    with pytest.raises(ValueError, match="does not fit"):
        Settings(table_name="t", dynamodb_read_timeout_s=9, ingest_deadline_s=20)


def _stalls(proxy: FaultProxy) -> int:
    return sum(
        entry["count"]
        for entry in proxy.plan.report()["injected"]
        if entry["mode"] == "stall" and entry["operation"] == "PutItem"
    )


def _kiosk_token() -> str:
    return issue_kiosk_token("k-faults", "store-a", now())
