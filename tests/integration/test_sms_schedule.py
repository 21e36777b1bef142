"""The scheduled sender puts back what it took when the text cannot go out, and sends each
invitation once under DynamoDB faults and overlapping runs."""

from __future__ import annotations

import contextlib
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from botocore.exceptions import ClientError

from chalicelib.domain.invitations import InvitationRequest
from chalicelib.errors import DependencyUnavailable
from chalicelib.flows.sms_survey import invite
from chalicelib.jobs import sms_schedule
from chalicelib.notify import sms_sender
from chalicelib.storage import sms_state, stores
from devtools.fault_proxy import MODES, FaultProxy
from tests.conftest import make_store
from tests.integration.conftest import app_attempts, fault_of, quick_timeouts, stalling

NIGHT = datetime(2026, 11, 25, 7, 0, tzinfo=UTC)  # 23:00 in Los Angeles
OPENING = NIGHT + timedelta(hours=9, minutes=1)  # 08:01 in Los Angeles
PHONE = "+14155550123"


def test_an_invitation_not_sent_is_back_on_the_schedule_as_it_was_stored(storage, monkeypatch):
    store = make_store("store-q", timezone="America/Los_Angeles", sms_window=None)
    stores.put_store(store)
    invitation = invite(InvitationRequest(phone=PHONE, store_id=store.store_id), store, NIGHT)
    assert invitation.status == "scheduled"
    stored = sms_state.stored_invitation(invitation.invitation_id)

    def busy(to: str, body: str) -> str:
        raise DependencyUnavailable("the SMS provider is busy", 5)

    with monkeypatch.context() as outage:
        outage.setattr(sms_schedule, "send_sms", busy)
        sent_in_outage = sms_schedule.send_due_invitations(OPENING)
    back = sms_state.stored_invitation(invitation.invitation_id)
    due = sms_state.due_invitations(OPENING, timedelta(days=1))
    sent_after = sms_schedule.send_due_invitations(OPENING + timedelta(minutes=5))

    assert sent_in_outage == 0
    assert back == stored  # the same item, number and schedule entry included
    assert invitation.invitation_id in due
    assert sent_after == 1
    final = sms_state.get_invitation(invitation.invitation_id)
    assert final is not None
    assert final.status == "sent"


def test_a_take_that_never_answers_cannot_land_after_the_put_back(faulty_storage, monkeypatch):
    # The defect: the take (a TransactWriteItems) stalled past the client's timeout, the run
    # put the invitation back, and the take landed after that: taken, never texted. One
    # attempt per call: botocore's retries of a transaction share its ClientRequestToken,
    # so a late one is a no-op once an earlier one landed; the app's own sends are not.
    app_attempts(monkeypatch, 1)
    store = make_store("store-q", timezone="America/Los_Angeles", sms_window=None)
    stores.put_store(store)
    invitation = invite(InvitationRequest(phone=PHONE, store_id=store.store_id), store, NIGHT)
    stored = sms_state.stored_invitation(invitation.invitation_id)
    sms_sender.OUTBOX.clear()

    with stalling(faulty_storage, "TransactWriteItems"):
        sent_in_stall = sms_schedule.send_due_invitations(OPENING)
    after_stall = sms_state.stored_invitation(invitation.invitation_id)
    sent_after = sms_schedule.send_due_invitations(OPENING + timedelta(minutes=5))

    assert sent_in_stall == 0
    assert after_stall == stored  # every take landed after the put back, and did nothing
    assert sent_after == 1
    assert texts_per_number([PHONE]) == Counter({PHONE: 1})


# Under faults: the fault proxy in front of DynamoDB Local, overlapping runs.
INVITATIONS = 6
MAX_ROUNDS = 15


@pytest.fixture
def once_retried(
    faulty_storage: FaultProxy, monkeypatch: pytest.MonkeyPatch, quick_throttle_backoff: None
) -> FaultProxy:
    """Two DynamoDB attempts in all, not three, so that faults reach the sender (9 % of
    calls at 30 %, not 3 %); botocore's throttle backoff as short as after other errors
    (the test counts texts, not time); invitations that live 12 h, so that a run looks back
    12 hours (13 Queries), not 72."""
    monkeypatch.setenv("STOREPULSE_INVITATION_TTL_HOURS", "12")
    app_attempts(monkeypatch, 2)
    return faulty_storage


def texts_per_number(numbers: list[str]) -> Counter[str]:
    return Counter(
        m["attributes"]["to"] for m in sms_sender.OUTBOX if m["attributes"]["to"] in numbers
    )


@pytest.mark.parametrize("mode", MODES)
def test_each_scheduled_invitation_is_sent_once_by_overlapping_runs_under_faults(
    once_retried: FaultProxy, mode: str
) -> None:
    store = make_store("store-q", timezone="America/Los_Angeles", sms_window=None)
    stores.put_store(store)
    numbers = [f"+1415555{3000 + n:04d}" for n in range(INVITATIONS)]
    for number in numbers:
        invited = invite(InvitationRequest(phone=number, store_id=store.store_id), store, NIGHT)
        assert invited.status == "scheduled"
    sms_sender.OUTBOX.clear()
    rounds, failed_runs = 0, 0
    with quick_timeouts(once_retried), ThreadPoolExecutor(max_workers=2) as pool:
        once_retried.set_faults([fault_of(mode, 0.3)], seed=1)
        while rounds < MAX_ROUNDS and set(texts_per_number(numbers)) != set(numbers):
            at = OPENING + timedelta(minutes=5 * rounds)
            rounds += 1
            runs = [pool.submit(sms_schedule.send_due_invitations, at) for _ in range(2)]
            for run in runs:  # two runs at once: EventBridge may start one before the last ends
                try:
                    run.result()
                except (DependencyUnavailable, ClientError):
                    failed_runs += 1  # the listing failed: the next run lists again
        # A run after all are sent sends nothing again.
        with contextlib.suppress(DependencyUnavailable, ClientError):
            sms_schedule.send_due_invitations(OPENING + timedelta(minutes=5 * rounds))
    once_retried.clear()

    texts = texts_per_number(numbers)
    duplicates = sum(count - 1 for count in texts.values())
    lost = [number for number in numbers if number not in texts]
    print(
        f"\n[scheduled sms faults] mode={mode} invitations={INVITATIONS} "
        f"texts={sum(texts.values())} duplicates={duplicates} lost={len(lost)} "
        f"rounds={rounds} (2 overlapping runs each) failed_runs={failed_runs}"
    )
    assert duplicates == 0
    assert lost == []
