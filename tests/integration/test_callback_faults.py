"""Callback flagging and its notifications under DynamoDB faults (the fault proxy in front of
DynamoDB Local): each task is made once and each kind of notification goes out at most once
per task, and, with the runs repeated, exactly once."""

from __future__ import annotations

import contextlib
import re
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from botocore.exceptions import ClientError

from chalicelib.errors import DependencyUnavailable
from chalicelib.jobs import flagging
from chalicelib.notify import topics
from chalicelib.storage import tasks
from chalicelib.storage.ratings import strip_contact
from devtools.fault_proxy import MODES, Fault, FaultProxy
from tests.integration.conftest import app_attempts, fault_of, quick_timeouts
from tests.integration.factories import put

START = datetime.now(UTC).replace(microsecond=0)
KINDS = ("callback_task", "callback_reminder", "callback_overdue")
# When each kind falls due: the task at once, the reminder at half the 24 h deadline, the
# escalation past it.
PHASES = {
    "callback_task": START + timedelta(minutes=1),
    "callback_reminder": START + timedelta(hours=12, minutes=1),
    "callback_overdue": START + timedelta(hours=24, minutes=5),
}
TASKS = 4
MAX_RUNS = 12  # per phase; a run under 30 % faults finishes most of its work


pytestmark = pytest.mark.usefixtures("quick_throttle_backoff")


@pytest.fixture(autouse=True)
def quiet_outbox() -> None:
    topics.PUBLISHED.clear()


@pytest.fixture
def once_retried(faulty_storage: FaultProxy, monkeypatch: pytest.MonkeyPatch) -> FaultProxy:
    """The app's DynamoDB client with two attempts in all, not three: at 30 % three would
    absorb all but ~3 % of the faults (two: 9 % reach the app), and these tests are about
    what the app does with the ones that reach it. One attempt would fail nearly every run
    somewhere (a flagging takes ~10 calls a rating)."""
    app_attempts(monkeypatch, 2)
    return faulty_storage


def sent() -> Counter[tuple[str, str]]:
    """(task id, kind) of every callback notification the outbox published."""
    counted: Counter[tuple[str, str]] = Counter()
    for entry in topics.PUBLISHED:
        if entry["topic"] == "callbacks":
            task_id = re.search(r"#task=([\w-]+)", entry["message"])
            assert task_id is not None, entry["message"]
            counted[(task_id.group(1), entry["attributes"]["kind"])] += 1
    return counted


def unhappy_ratings(count: int) -> list[str]:
    """Kiosk ratings that asked for a call, one customer each, over both stores."""
    return [
        put(
            "store-a" if n % 2 else "store-b",
            score=1,
            received_at=START - timedelta(minutes=2),
            contact={"phone": f"+1415555{n:04d}", "name": "Ana"},
        ).rating_id
        for n in range(count)
    ]


def injected(proxy: FaultProxy) -> Counter[tuple[str, str]]:
    """The faults the proxy injected so far, per mode and operation (since it started)."""
    return Counter(
        {(e["mode"], e["operation"]): e["count"] for e in proxy.plan.report()["injected"]}
    )


def by_operation(faults: Counter[tuple[str, str]]) -> Counter[str]:
    counted: Counter[str] = Counter()
    for (_, operation), count in faults.items():
        counted[operation] += count
    return counted


def task_ids() -> set[str]:
    return {task.task_id for s in ("store-a", "store-b") for task in tasks.tasks_of(s, "open")}


@dataclass
class Phase:
    kind: str
    runs: int = 0
    failed_runs: int = 0


def run_until_sent(kind: str, expected: set[str]) -> Phase:
    """Scheduled follow-ups at the phase's time until every task has its `kind` (or
    MAX_RUNS), then one more: a run that finds nothing to do must send nothing."""
    phase = Phase(kind)
    at = PHASES[kind]
    while phase.runs < MAX_RUNS:
        phase.runs += 1
        try:
            flagging.follow_up(at)
        except (DependencyUnavailable, ClientError):
            phase.failed_runs += 1  # the scheduler runs it again in 5 minutes
        if {task_id for task_id, k in sent() if k == kind} >= expected:
            break
    # One more run, which finds the kind sent for every task (and the stamps maybe lost).
    with contextlib.suppress(DependencyUnavailable, ClientError):
        flagging.follow_up(at + timedelta(minutes=5))
    return phase


def test_a_lost_stamp_after_publishing_does_not_send_the_notification_again(
    faulty_storage: FaultProxy,
) -> None:
    # The defect: the run published, the write of `notified_at` failed, the next run
    # published again.
    (rating_id,) = unhappy_ratings(1)
    # A task not notified yet (the follow-up's case), made with the faults off.
    with pytest.MonkeyPatch.context() as quiet:
        quiet.setattr(flagging, "_notify", lambda *args: 0)
        assert flagging.flag_kiosk_callbacks([rating_id], START) == 1
    (task_id,) = task_ids()

    before = injected(faulty_storage)
    faulty_storage.set_faults([Fault("drop", 1.0, frozenset({"TransactWriteItems"}))], seed=1)
    first = flagging.follow_up(PHASES["callback_task"])
    dropped = injected(faulty_storage) - before
    faulty_storage.clear()
    second = flagging.follow_up(PHASES["callback_task"] + timedelta(minutes=5))
    third = flagging.follow_up(PHASES["callback_task"] + timedelta(minutes=10))

    assert set(dropped) == {("drop", "TransactWriteItems")}  # every attempt of the stamp
    assert first["notified"] == 1
    assert second["notified"] == third["notified"] == 0
    assert sent() == Counter({(task_id, "callback_task"): 1})
    assert tasks.notification_claims(task_id) == {"callback_task": "sent"}
    task = tasks.get_task(task_id, START)
    assert task is not None
    assert task.notified_at is not None  # the second run put the lost stamp back


def test_a_publish_that_fails_releases_its_claim_for_the_next_run(
    faulty_storage: FaultProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    (rating_id,) = unhappy_ratings(1)
    real_publish = flagging.publish

    def sns_down(*args: object) -> str:
        raise DependencyUnavailable("SNS is throttling", 5)

    monkeypatch.setattr(flagging, "publish", sns_down)
    flagged = flagging.flag_kiosk_callbacks([rating_id], START)
    (task_id,) = task_ids()
    claims_after_failure = tasks.notification_claims(task_id)
    monkeypatch.setattr(flagging, "publish", real_publish)
    follow_up = flagging.follow_up(PHASES["callback_task"])

    assert flagged == 1  # the task is made: SNS failing loses nothing
    assert claims_after_failure == {}
    assert follow_up["notified"] == 1
    assert sent() == Counter({(task_id, "callback_task"): 1})


def test_a_run_that_dies_between_claim_and_publish_leaves_the_notification_unsent(
    faulty_storage: FaultProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    # At most once: nobody can tell whether a dead run published, so its claim stands.
    (rating_id,) = unhappy_ratings(1)

    def killed(*args: object) -> str:
        raise SystemExit("the Lambda timed out")

    monkeypatch.setattr(flagging, "publish", killed)
    with pytest.raises(SystemExit):
        flagging.flag_kiosk_callbacks([rating_id], START)
    strip_contact(rating_id)  # the dead run's last step, for the test's next line
    monkeypatch.undo()
    (task_id,) = task_ids()
    later = flagging.follow_up(PHASES["callback_task"])
    task = tasks.get_task(task_id, START)

    assert later["notified"] == 0
    assert sent() == Counter()
    assert tasks.notification_claims(task_id) == {"callback_task": "claimed"}
    assert task is not None
    assert task.notified_at is not None  # the follow-up stops asking
    assert task_id in task_ids()  # the task itself is on the staff's list


@pytest.mark.parametrize("mode", MODES)
def test_each_kind_of_notification_goes_out_once_per_task_under_faults(
    once_retried: FaultProxy, mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    faulty_storage = once_retried
    if mode == "stall":
        # botocore's second attempt is a send again that lands before the first one's
        # give-up (the stall is constant): with one, the lost answer reaches the app (the
        # stall is on writes only, so that runs still get through).
        app_attempts(monkeypatch, 1)
    rating_ids = unhappy_ratings(TASKS)
    before = injected(faulty_storage)
    with quick_timeouts(faulty_storage):
        faulty_storage.set_faults([fault_of(mode, 0.3)], seed=1)
        flag_runs = 0
        while flag_runs < MAX_RUNS:
            flag_runs += 1
            try:
                flagging.flag_kiosk_callbacks(rating_ids, START)
            except (DependencyUnavailable, ClientError):
                continue  # the aggregation's next run flags the same ratings again
            break
        made = set()
        for _ in range(MAX_RUNS):  # the listing itself may fail
            try:
                made = task_ids()
                break
            except DependencyUnavailable:
                continue
        phases = [run_until_sent(kind, made) for kind in KINDS]
        faults = injected(faulty_storage) - before
        faulty_storage.clear()

    counted = sent()
    duplicates = sum(count - 1 for count in counted.values())
    lost = [(t, k) for t in made for k in KINDS if (t, k) not in counted]
    print(
        f"\n[callback faults] mode={mode} tasks={len(made)} flag_runs={flag_runs} "
        f"sent={sum(counted.values())} duplicates={duplicates} lost={len(lost)} "
        f"runs={[p.runs for p in phases]} failed_runs={[p.failed_runs for p in phases]} "
        f"faults={sum(faults.values())} by operation={dict(sorted(by_operation(faults).items()))}"
    )
    assert len(made) == TASKS
    assert sum(faults.values()) > 0
    assert duplicates == 0
    assert lost == []
