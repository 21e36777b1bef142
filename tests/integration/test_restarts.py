"""Restarts: the local stack's API and DynamoDB Local (data on disk) are SIGKILLed while a
kiosk-like client sends ratings, then started again on the same ports and data; nothing the
API acknowledged is lost and nothing is stored twice."""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from devtools import dynamodb_local
from devtools.stack_process import LocalStack
from tests.polling import wait_until

pytestmark = pytest.mark.integration

BATCH = 25  # ratings per request, at most
TAPS_PER_S = 20  # customers tapping, whether or not the API answers
ACKNOWLEDGED = {"stored", "duplicate"}


class Kiosk(threading.Thread):
    """The kiosk's sync loop over real HTTP: ratings queue up as they are tapped, batches go
    out oldest first, and a rating leaves the queue only when the answer says `stored` or
    `duplicate`. `retry`, 5xx, timeouts and refused connections keep it queued, to be sent
    again with the same rating id (the kiosk page's back-off, shortened for a test)."""

    def __init__(self, api_url: str, token: str) -> None:
        super().__init__(daemon=True)
        self.api_url, self.token = api_url, token
        self.queue: list[dict[str, Any]] = []  # unacknowledged, oldest first
        self.sent: list[str] = []  # every rating id ever queued
        self.acknowledged: dict[str, str] = {}  # rating id -> its first acknowledgement
        self.rejected: list[dict[str, Any]] = []
        self.outcomes: Counter[str] = Counter()  # per request: 200, 503, "connection", ...
        self.tapping = threading.Event()
        self.tapping.set()
        self.in_flight = threading.Event()  # a request is on its way or being answered
        self.stopped = threading.Event()
        self.lock = threading.Lock()
        self.taps = 0

    def tap(self) -> None:
        # Taps 16 s apart on the kiosk's clock (none is taken for a repeat press), from a day
        # back: never later than the batch's sent_at.
        self.taps += 1
        tapped_at = datetime.now(UTC) - timedelta(days=1) + timedelta(seconds=16 * self.taps)
        rating = {
            "rating_id": str(uuid.uuid4()),
            "score": 1 + self.taps % 5,
            "tapped_at": tapped_at.isoformat(timespec="milliseconds"),
        }
        with self.lock:
            self.queue.append(rating)
            self.sent.append(rating["rating_id"])

    def backlog(self) -> int:
        with self.lock:
            return len(self.queue)

    def snapshot(self) -> set[str]:
        with self.lock:
            return set(self.acknowledged)

    def run(self) -> None:
        started = time.monotonic()
        while not self.stopped.is_set():
            if self.tapping.is_set():
                for _ in range(int((time.monotonic() - started) * TAPS_PER_S) - self.taps):
                    self.tap()
            with self.lock:
                batch = list(self.queue[:BATCH])
            if not batch:
                self.stopped.wait(0.05)
                continue
            if not self.send(batch):
                self.stopped.wait(0.2)  # back off; the kiosk page waits 1-60 s

    def send(self, batch: list[dict[str, Any]]) -> bool:
        """One request; True when every rating in it got its final answer."""
        body = {"sent_at": datetime.now(UTC).isoformat(timespec="milliseconds"), "ratings": batch}
        self.in_flight.set()
        try:
            response = requests.post(
                f"{self.api_url}/v1/kiosk/ratings",
                json=body,
                headers={"Authorization": f"Bearer {self.token}"},
                timeout=5,
            )
        except requests.RequestException as error:  # refused, reset, timed out
            self.outcomes[type(error).__name__] += 1
            return False
        finally:
            self.in_flight.clear()
        self.outcomes[str(response.status_code)] += 1
        if response.status_code != 200:
            return False  # 503 (nothing written) and any other failure: resend it all
        done: set[str] = set()
        retry = False
        with self.lock:
            for result in response.json()["results"]:
                status = result["status"]
                self.outcomes[f"rating {status}"] += 1
                if status in ACKNOWLEDGED:
                    self.acknowledged.setdefault(result["rating_id"], status)
                    done.add(result["rating_id"])
                elif status == "rejected":
                    self.rejected.append(result)
                    done.add(result["rating_id"])
                else:  # `retry`: its write failed; it stays queued and goes out again
                    retry = True
            self.queue = [r for r in self.queue if r["rating_id"] not in done]
        return not retry


def test_a_crash_of_the_api_and_dynamodb_local_loses_nothing_acknowledged(tmp_path):
    # The scheduler stays quiet: this test is about ingest, and its CPU is the clients'.
    stack = LocalStack(tmp_path, env={"SCHEDULER_INTERVAL_S": "3600"})
    demo = stack.start()
    kiosk = Kiosk(demo["api_url"], demo["kiosk_token"])
    try:
        kiosk.start()
        wait_until(lambda: len(kiosk.snapshot()) >= 60, 30, "60 ratings acknowledged", 0.05)

        kiosk.in_flight.wait(5)
        killed_at = time.monotonic()
        exit_code = stack.crash()  # SIGKILL both, most likely while a batch is being written
        before_kill = kiosk.snapshot()  # after the kill: anything acknowledged by then
        sent_before_kill = len(kiosk.sent)

        stack.start()  # same ports, same -dbPath, same signing key: the same kiosk token
        restarted_at = time.monotonic()
        backlog_at_restart = kiosk.backlog()
        acknowledged_at_restart = len(kiosk.snapshot())
        wait_until(  # traffic flows again, then the taps stop and the kiosk drains
            lambda: len(kiosk.snapshot()) >= acknowledged_at_restart + 40,
            30,
            "ratings acknowledged after the restart",
            0.05,
        )
        kiosk.tapping.clear()
        wait_until(lambda: kiosk.backlog() == 0, 30, "the kiosk's queue drained", 0.05)
        drained_at = time.monotonic()
        kiosk.stopped.set()
        kiosk.join(timeout=10)
        from chalicelib.storage.ratings import every_rating

        ddb = dynamodb_local.client(stack.demo["dynamodb_endpoint"])
        stored = Counter(
            str(r.rating_id)
            for r in every_rating(ddb=ddb, table=stack.demo["table_name"])
            if r.source_id == demo["kiosk_id"]
        )
    finally:
        kiosk.stopped.set()
        stack.stop()

    sent = set(kiosk.sent)
    lost_acknowledged = before_kill - stored.keys()
    lost = sent - stored.keys()
    doubled = sum(count - 1 for count in stored.values())
    print(
        f"\nrestart: sent {len(sent)} ({sent_before_kill} before the kill), acknowledged "
        f"before the kill {len(before_kill)}, stored after {len(stored)}, lost {len(lost)} "
        f"(acknowledged ones {len(lost_acknowledged)}), doubled {doubled}; down "
        f"{restarted_at - killed_at:.1f} s, backlog {backlog_at_restart} drained "
        f"{drained_at - restarted_at:.1f} s after the restart; requests {dict(kiosk.outcomes)}"
    )
    assert exit_code == 1  # the stack saw its components die
    assert kiosk.outcomes["ConnectionError"] > 0  # the client really met the outage
    assert not kiosk.rejected
    assert not lost_acknowledged
    assert not lost
    assert doubled == 0
    assert stored.keys() == sent
    assert len(kiosk.acknowledged) == len(sent)
