"""SMS survey invitations: who may be asked, and when."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

InvitationStatus = Literal["sent", "scheduled", "suppressed"]
SuppressionReason = Literal["invalid_phone", "opted_out", "recently_surveyed", "undeliverable"]


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

    def answer(self) -> dict[str, str]:
        """The contract's 202 body."""
        body = {"invitation_id": self.invitation_id, "status": self.status}
        if self.reason:
            body["reason"] = self.reason
        return body


def suppression(
    *,
    valid_phone: bool,
    opted_out: bool,
    last_surveyed: datetime | None,
    now: datetime,
    cooldown: timedelta,
) -> SuppressionReason | None:
    """Why this number must not be surveyed now, if it must not."""
    if not valid_phone:
        return "invalid_phone"
    if opted_out:
        return "opted_out"
    if last_surveyed is not None and now - last_surveyed < cooldown:
        return "recently_surveyed"
    return None


def next_send_time(now: datetime, zone: str, start_hour: int, end_hour: int) -> datetime:
    """`now` if it is inside the sending window in `zone`, else the window's next opening."""
    local = now.astimezone(ZoneInfo(zone))
    if start_hour <= local.hour < end_hour:
        return now
    opening = local.replace(hour=start_hour, minute=0, second=0, microsecond=0)
    if local.hour >= end_hour:
        opening += timedelta(days=1)
    return opening.astimezone(now.tzinfo)
