"""The shapes of the answers about people, integrations and notification preferences, for
the OpenAPI document (`openapi_people.py`)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from ..domain.people import Role
from .schemas import Answer


class StaffInvitation(Answer):
    """The person as invited: `invited` (new: the invitation e-mail goes out) or `exists`
    (the pool had them: their stores are added, no e-mail)."""

    email: str
    role: Role
    stores: list[str]
    region: str | None
    status: Literal["invited", "exists"]


class StaffMember(Answer):
    email: str
    role: Role
    stores: list[str]
    region: str | None
    invited_at: datetime


class StaffList(Answer):
    """The people the caller may see: everyone (admin), or the staff of the stores of the
    manager's region."""

    staff: list[StaffMember]


class Notifications(Answer):
    """The caller's notification preferences: e-mail to their address, texts to `sms`."""

    email: bool
    sms: str | None = Field(description="an E.164 number, or null: no texts")


class NewIntegration(Answer):
    """The integration and its token: shown this once, never kept in clear."""

    integration_id: str
    token: str


class IntegrationView(Answer):
    integration_id: str
    name: str
    store_ids: list[str]
    created_at: datetime
    revoked_at: datetime | None


class IntegrationList(Answer):
    """The integrations the caller may see (a manager: those of their region's stores)."""

    integrations: list[IntegrationView]
