"""The scheduled sender gives up what it took when the text cannot go out (a void claim on
the schedule, which the next run takes over), and sends each invitation once under
DynamoDB faults and overlapping runs."""

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
from devtools.fault_proxy import MODES, Fault, FaultProxy
from tests.conftest import make_store
from tests.integration.conftest import app_attempts, fault_of, quick_timeouts, stalling

NIGHT = datetime(2026, 11, 25, 7, 0, tzinfo=UTC)  # 23:00 in Los Angeles
OPENING = NIGHT + timedelta(hours=9, minutes=1)  # 08:01 in Los Angeles
PHONE = "+14155550123"


def scheduled_at_night() -> str:
    """A store whose window is closed at NIGHT, and an invitation scheduled for OPENING."""
    store = make_store("store-q", timezone="America/Los_Angeles", sms_window=None)
    stores.put_store(store)
    invitation = invite(InvitationRequest(phone=PHONE, store_id=store.store_id), store, NIGHT)
    assert invitation.status == "scheduled"
    sms_sender.OUTBOX.clear()
    return invitation.invitation_id


def held_by_a_void_claim(invitation_id: str) -> bool:
    """Taken off the schedule by a run that gave it up: never texted."""
    stored = sms_state.stored_claims(invitation_id)
    return (
        stored.invitation is not None
        and stored.invitation.status == "sent"
        and stored.holder in stored.void
    )


def test_an_invitation_whose_text_failed_is_sent_once_by_the_next_run(storage, monkeypatch):
    invitation_id = scheduled_at_night()

    def busy(to: str, body: str) -> str:
        raise DependencyUnavailable("the SMS provider is busy", 5)

    with monkeypatch.context() as outage:
        outage.setattr(sms_schedule, "send_sms", busy)
        sent_in_outage = sms_schedule.send_due_invitations(OPENING)
    given_up = held_by_a_void_claim(invitation_id)
    due = sms_state.due_invitations(OPENING, timedelta(days=1))
    sent_after = sms_schedule.send_due_invitations(OPENING + timedelta(minutes=5))
    sent_later = sms_schedule.send_due_invitations(OPENING + timedelta(minutes=10))

    assert sent_in_outage == 0
    assert given_up  # taken, and its claim void: only the void's listing finds it
    assert due == [invitation_id]  # listed once, though on the schedule by its void claim
    assert (sent_after, sent_later) == (1, 0)
    assert texts_per_number([PHONE]) == Counter({PHONE: 1})
    assert sms_state.due_invitations(OPENING + timedelta(minutes=10), timedelta(days=1)) == []
    final = sms_state.stored_invitation(invitation_id)
    assert final is not None
    assert final["status"] == "sent"
    assert "phone" not in final


def test_a_take_that_never_answers_cannot_land_after_it_was_given_up(faulty_storage, monkeypatch):
    # The defect: the take (a TransactWriteItems) stalled past the client's timeout, the run
    # put the invitation back, and the take landed after that: taken, never texted. One
    # attempt per call: botocore's retries of a transaction share its ClientRequestToken,
    # so a late one is a no-op once an earlier one landed; the app's own sends are not.
    app_attempts(monkeypatch, 1)
    invitation_id = scheduled_at_night()

    with stalling(faulty_storage, "TransactWriteItems"):
        sent_in_stall = sms_schedule.send_due_invitations(OPENING)
    after_stall = sms_state.stored_invitation(invitation_id)
    given_up = held_by_a_void_claim(invitation_id)
    sent_after = sms_schedule.send_due_invitations(OPENING + timedelta(minutes=5))
    sent_later = sms_schedule.send_due_invitations(OPENING + timedelta(minutes=10))

    assert sent_in_stall == 0
    assert after_stall is not None
    # Either no take landed before the void (still scheduled), or one did: held by the
    # void claim. Both are found by the next run.
    assert after_stall["status"] == "scheduled" or given_up
    assert (sent_after, sent_later) == (1, 0)
    assert texts_per_number([PHONE]) == Counter({PHONE: 1})


def test_a_take_that_landed_unseen_is_taken_over_once_by_overlapping_runs(
    faulty_storage, monkeypatch
):
    # The defect: the take landed but every answer was lost (500 after the write), the run
    # made its claim void and then could not put the invitation back (the put-back was a
    # second write): 'sent' off the schedule, never texted, found by no later run. Now the
    # void is the whole give-up, and it is on the schedule.
    app_attempts(monkeypatch, 1)
    invitation_id = scheduled_at_night()

    faulty_storage.set_faults([Fault("after_500", 1.0, frozenset({"TransactWriteItems"}))])
    sent_in_fault = sms_schedule.send_due_invitations(OPENING)
    faulty_storage.clear()
    given_up = held_by_a_void_claim(invitation_id)
    at = OPENING + timedelta(minutes=5)
    with ThreadPoolExecutor(max_workers=2) as pool:
        runs = [pool.submit(sms_schedule.send_due_invitations, at) for _ in range(2)]
        sent_after = sorted(run.result() for run in runs)
    sent_later = sms_schedule.send_due_invitations(OPENING + timedelta(minutes=10))

    assert sent_in_fault == 0
    assert given_up  # the state the failed put-back left, and no longer lost
    assert sent_after == [0, 1]  # two runs at once: one takes it over
    assert sent_later == 0
    assert texts_per_number([PHONE]) == Counter({PHONE: 1})
    stored = sms_state.stored_claims(invitation_id)
    assert stored.holder not in stored.void  # held by the run that texted it


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
