"""Fixtures of the fault tests: the app's DynamoDB traffic through a fault-injecting proxy in
front of DynamoDB Local (devtools/fault_proxy.py)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from devtools import dynamodb_local
from devtools.fault_proxy import Fault, FaultProxy
from tests.conftest import make_store, now, reset_caches
from tests.polling import wait_until


@pytest.fixture(scope="session")
def fault_proxy(dynamodb_local_server: str) -> Iterator[FaultProxy]:
    proxy = FaultProxy(dynamodb_local_server).start()
    yield proxy
    proxy.stop()


@pytest.fixture
def faulty_storage(
    fault_proxy: FaultProxy, dynamodb_local_server: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[FaultProxy]:
    """A fresh table on DynamoDB Local that the app reaches through the proxy, with the
    demo stores `store-a` and `store-b` in it; faults are off until the test switches them on
    (`fault_proxy.set_faults([...])`) and off again after it."""
    table = f"storepulse-{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("STOREPULSE_TABLE_NAME", table)
    monkeypatch.setenv("STOREPULSE_DYNAMODB_ENDPOINT", fault_proxy.endpoint)
    reset_caches()
    dynamodb_local.create_table(dynamodb_local.client(dynamodb_local_server), table)
    from chalicelib.storage import stores

    fault_proxy.clear()
    stores.put_store(make_store("store-a"))
    stores.put_store(make_store("store-b"))
    yield fault_proxy
    fault_proxy.clear()
    dynamodb_local.drop_table(dynamodb_local.client(dynamodb_local_server), table)
    reset_caches()


def app_attempts(monkeypatch: pytest.MonkeyPatch, attempts: int) -> None:
    """The app's DynamoDB client with `attempts` in all (botocore's default is three: at
    30 % faults they absorb all but ~3 %; fault tests are about the ones that reach the app)."""
    monkeypatch.setenv("STOREPULSE_DYNAMODB_ATTEMPTS", str(attempts))
    reset_caches()


@pytest.fixture
def quick_throttle_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """botocore waits up to 1 s, 2 s ... after a throttle; tests that count what was sent,
    not how long it took, wait as long as after any other error (50 ms, 100 ms ...)."""
    from botocore.retries.standard import ExponentialBackoff

    monkeypatch.setitem(ExponentialBackoff._DEFAULT_BACKOFF_CONFIG, "throttling_base_scale", 0.05)


# A stall outlasts the client's read timeout; short ones keep a stall run to seconds (one
# call's worst case is attempts x (connect + read): 0.6 s an attempt). The stalled request
# reaches DynamoDB Local STALL_S after it was sent: after the client gave up on it.
QUICK_TIMEOUT_S = 0.3
STALL_S = 0.6


@contextmanager
def quick_timeouts(proxy: FaultProxy) -> Iterator[None]:
    """Within: the app's DynamoDB client with 0.3 s connect and read timeouts, and the
    proxy's stall (STALL_S) beyond them, so that a stalled write lands after its caller
    gave up. Only while faults are on: on a busy machine a sound call may take 0.3 s."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("STOREPULSE_DYNAMODB_CONNECT_TIMEOUT_S", str(QUICK_TIMEOUT_S))
        patch.setenv("STOREPULSE_DYNAMODB_READ_TIMEOUT_S", str(QUICK_TIMEOUT_S))
        patch.setattr(proxy.plan, "stall_s", STALL_S)
        reset_caches()
        try:
            yield
        finally:
            patch.undo()
            reset_caches()


@contextmanager
def stalling(proxy: FaultProxy, operation: str) -> Iterator[None]:
    """Within: every `operation` call stalls (with the quick timeouts: no answer ever comes).
    On leaving, the faults are turned off once every stalled call has reached DynamoDB
    Local (and done there whatever it still could)."""

    def forwarded() -> int:
        return int(proxy.plan.report()["forwarded"].get(operation, 0))

    def stalled() -> int:
        return sum(
            entry["count"]
            for entry in proxy.plan.report()["injected"]
            if entry["mode"] == "stall" and entry["operation"] == operation
        )

    start = (forwarded(), stalled())
    with quick_timeouts(proxy):
        proxy.set_faults([Fault("stall", 1.0, frozenset({operation}))])
        try:
            yield
        finally:
            wait_until(
                lambda: forwarded() - start[0] >= stalled() - start[1],
                message=f"the stalled {operation} calls to reach DynamoDB Local",
                interval=0.05,
            )
            proxy.clear()


# The calls whose effect can land after their caller gave up. A stalled read is only a
# failed one, and stalls are slow: the fault tests stall these (every one of their kinds).
WRITES = frozenset({"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"})


def fault_of(mode: str, probability: float) -> Fault:
    """A fault of `mode` on every operation, but a stall only on writes (WRITES)."""
    return Fault(mode, probability, WRITES if mode == "stall" else frozenset())


@pytest.fixture
def scheduler(store: object) -> Any:
    """Runs the app's scheduled function (it aggregates and flags callbacks) the way
    EventBridge would; its watermark starts at this hour, so no week of empty hours is read."""
    from chalice.test import Client

    from app import app
    from chalicelib.jobs.aggregate import floor_hour
    from chalicelib.storage import aggregates

    aggregates.advance_watermark(None, floor_hour(now()))

    def run() -> Any:
        with Client(app) as client:
            event = client.events.generate_cw_event(
                source="aws.events", detail_type="Scheduled Event", detail={}, resources=[]
            )
            return client.lambda_.invoke("aggregate_satisfaction", event).payload

    return run
