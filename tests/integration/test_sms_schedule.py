"""The scheduled sender puts back what it took when the text cannot go out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from chalicelib.domain.invitations import InvitationRequest
from chalicelib.errors import DependencyUnavailable
from chalicelib.flows.sms_survey import invite
from chalicelib.jobs import sms_schedule
from chalicelib.storage import sms_state, stores
from tests.conftest import make_store

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
