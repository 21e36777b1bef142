"""SMS survey invitations: who may be asked, and when."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from .consent import ConsentRecord, given
from .sms_conversation import Conversation, text_locale
from .survey import Store

InvitationStatus = Literal["sent", "scheduled", "suppressed"]
SuppressionReason = Literal[
    "invalid_phone",
    "opted_out",
    "recently_surveyed",
    "undeliverable",
    "expired",
    "already_answered",  # the visit was answered (on the kiosk or the link survey)
]


class InvitationRequest(BaseModel):
    """`POST /v1/surveys/invitations` from a store system after a visit."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    # Not stripped: a number with whitespace around it is not the number (suppressed as
    # invalid_phone), like everywhere else a phone is read.
    phone: Annotated[str, StringConstraints(strip_whitespace=False, min_length=1, max_length=32)]
    store_id: str = Field(min_length=1, max_length=63)
    visit_ref: str | None = Field(default=None, max_length=100)
    locale: str | None = None


class Invitation(BaseModel):
    model_config = ConfigDict(frozen=True)

    invitation_id: str
    store_id: str
    status: InvitationStatus
    reason: SuppressionReason | None = None
    locale: str = "en"
    visit_ref: str | None = None
    created_at: datetime
    send_at: datetime | None = None
    expires_at: datetime
    # When a scheduled invitation was held back at its send time (`reason` says why).
    suppressed_at: datetime | None = None

    def answer(self) -> dict[str, str]:
        """The contract's 202 body."""
        body = {"invitation_id": self.invitation_id, "status": self.status}
        if self.reason:
            body["reason"] = self.reason
        return body


@dataclass(frozen=True)
class SurveyHistory:
    """What is known of a number before it is surveyed."""

    opted_out: bool = False
    last_surveyed: datetime | None = None
    # The invitation that took the number's cool-down (None on marks written before it was
    # recorded).
    last_invitation_id: str | None = None


def suppression(
    *,
    valid_phone: bool,
    opted_out: bool,
    last_surveyed: datetime | None,
    now: datetime,
    cooldown: timedelta,
    visit_answered: bool = False,
) -> SuppressionReason | None:
    """Why this number must not be surveyed now, if it must not."""
    if not valid_phone:
        return "invalid_phone"
    if visit_answered:
        return "already_answered"
    if opted_out:
        return "opted_out"
    if last_surveyed is not None and now - last_surveyed < cooldown:
        return "recently_surveyed"
    return None


def suppression_at_send(
    invitation: Invitation,
    history: SurveyHistory,
    *,
    now: datetime,
    cooldown: timedelta,
    visit_answered: bool = False,
) -> SuppressionReason | None:
    """Why a scheduled invitation must not go out now that its time has come, if it must
    not: it expired while it waited, its visit was answered meanwhile (on the kiosk or the
    link survey), the customer opted out meanwhile, or another survey took the number's
    cool-down (two invitations that crossed: only one goes out)."""
    if now >= invitation.expires_at:
        return "expired"
    if visit_answered:
        return "already_answered"
    if history.opted_out:
        return "opted_out"
    surveyed = history.last_surveyed
    if surveyed is None or now - surveyed >= cooldown:
        return None
    if history.last_invitation_id is not None:
        another = history.last_invitation_id != invitation.invitation_id
    else:  # an older mark that names no invitation: ours was written when we were asked
        another = surveyed > invitation.created_at
    return "recently_surveyed" if another else None


def invitation_consent(invitation: Invitation, at: datetime) -> ConsentRecord:
    """The consent an invitation is sent on: the store system that asked for it vouches for
    the customer's consent to SMS surveys, shown the invitation's versioned text."""
    return given(
        "sms_survey",
        "store_system",
        locale=text_locale(invitation.locale),
        at=at,
        source=invitation.invitation_id,
    )


def opening_conversation(
    invitation: Invitation, store: Store, phone: str, at: datetime
) -> Conversation:
    """The SMS conversation an invitation starts when it is texted at `at`."""
    return Conversation(
        conversation_id=invitation.invitation_id,
        store_id=store.store_id,
        visit_ref=invitation.visit_ref,
        store_name=store.name,
        phone=phone,
        locale=invitation.locale,
        started_at=at,
    )


def next_send_time(now: datetime, zone: str, start_hour: int, end_hour: int) -> datetime:
    """`now` if it is inside the sending window in `zone`, else the window's next opening."""
    local = now.astimezone(ZoneInfo(zone))
    if start_hour <= local.hour < end_hour:
        return now
    opening = local.replace(hour=start_hour, minute=0, second=0, microsecond=0)
    if local.hour >= end_hour:
        opening += timedelta(days=1)
    return opening.astimezone(now.tzinfo)
