"""People who sign in to the staff page (staff, managers, admins), store-system
integrations, and each person's notification preferences: requests, stored records and the
rules about who may invite whom."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from .phones import parse_e164

Role = Literal["staff", "manager", "admin"]
STORE_ID = r"^[a-z0-9][a-z0-9-]{1,62}$"  # as Store.store_id
REGION = r"^[a-z0-9][a-z0-9-]{0,62}$"  # as Store.region
# An address with one @ and a dot in its domain; Cognito checks the rest. No spaces, no
# control characters: it becomes a username, a group member and a path segment.
EMAIL = r"^[^@\s/]{1,64}@[^@\s/]{1,189}\.[^@\s/.]{2,63}$"
MAX_STORES = 100  # a person of more stores is a manager of their region


# defer_build: schemas are built on first use; auth imports these (the removed list), so
# they load on the kiosk ingest path (a cold-start budget), which never uses them.
class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


def normal_email(value: str) -> str:
    """E-mails are compared and stored in lower case (the pool's usernames are too)."""
    return value.strip().lower()


class InviteRequest(_Request):
    """`POST /v1/staff`: staff have stores and no region; a manager has a region (and may
    have stores); an admin has neither."""

    email: str = Field(max_length=254, pattern=EMAIL)
    role: Role
    stores: list[str] | None = Field(default=None, max_length=MAX_STORES)
    region: str | None = Field(default=None, pattern=REGION)

    @field_validator("email", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        return normal_email(value) if isinstance(value, str) else value

    @field_validator("stores")
    @classmethod
    def _store_ids(cls, value: list[str] | None) -> list[str] | None:
        if value is not None:
            bad = [s for s in value if not re.fullmatch(STORE_ID, s)]
            if bad:
                raise ValueError("store ids are 2 to 63 lower-case letters, digits and '-'")
            return sorted(set(value))
        return value

    @model_validator(mode="after")
    def _fits_the_role(self) -> InviteRequest:
        if self.role == "staff" and (not self.stores or self.region is not None):
            raise ValueError("staff have one or more `stores` and no `region`")
        if self.role == "manager" and self.region is None:
            raise ValueError("a manager has a `region`")
        if self.role == "admin" and (self.stores or self.region is not None):
            raise ValueError("an admin has no `stores` and no `region`")
        return self


class NotificationPreferences(_Request):
    """`PUT /v1/staff/me/notifications`: e-mail on or off, and the number texted (or null)."""

    email: bool = False
    sms: str | None = Field(default=None, max_length=16)

    @field_validator("sms")
    @classmethod
    def _e164(cls, value: str | None) -> str | None:
        return parse_e164(value) if value is not None else None


class Person(BaseModel):
    """A person as stored: who they are and the SNS subscriptions made for them."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    email: str
    role: Role
    stores: list[str] = Field(default_factory=list)
    region: str | None = None
    invited_at: datetime
    invited_by: str
    notifications: NotificationPreferences = NotificationPreferences()
    subscriptions: list[str] = Field(default_factory=list)  # SNS subscription ARNs

    def view(self) -> dict[str, object]:
        """The person as `GET /v1/staff` shows them (no subscriptions, no phone)."""
        return {
            "email": self.email,
            "role": self.role,
            "stores": list(self.stores),
            "region": self.region,
            "invited_at": self.invited_at.isoformat(timespec="seconds"),
        }


def merged(person: Person, request: InviteRequest) -> Person | None:
    """The person with the request's stores added, or None if the request asks another role
    or another region (that is a change, not an invitation: remove and invite again)."""
    if request.role != person.role or (
        request.role == "manager" and request.region != person.region
    ):
        return None
    stores = sorted(set(person.stores) | set(request.stores or ()))
    return person.model_copy(update={"stores": stores})


class IntegrationRequest(_Request):
    """`POST /v1/integrations`: a store system's name and the stores its credential is for."""

    name: str = Field(min_length=1, max_length=100)
    store_ids: list[str] = Field(min_length=1, max_length=MAX_STORES)

    @field_validator("store_ids")
    @classmethod
    def _store_ids(cls, value: list[str]) -> list[str]:
        if any(not re.fullmatch(STORE_ID, s) for s in value):
            raise ValueError("store ids are 2 to 63 lower-case letters, digits and '-'")
        return sorted(set(value))


class Integration(BaseModel):
    """A store system's credential as stored: never the token itself."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    integration_id: str
    name: str
    store_ids: list[str]
    created_at: datetime
    created_by: str
    revoked_at: datetime | None = None

    def view(self) -> dict[str, object]:
        return {
            "integration_id": self.integration_id,
            "name": self.name,
            "store_ids": list(self.store_ids),
            "created_at": self.created_at.isoformat(timespec="seconds"),
            "revoked_at": self.revoked_at.isoformat(timespec="seconds")
            if self.revoked_at
            else None,
        }


Topic = Literal["callbacks", "alerts"]


def notification_filters(
    role: Role, stores: list[str], regions: list[str]
) -> dict[Topic, dict[str, list[str]] | None]:
    """The SNS filter policy (on message attributes) a person's subscription to each topic
    gets; None: every message. SNS keeps one subscription per topic and address, so each
    topic has one policy.

    Callback messages carry `audience`: "staff" for a new task and its reminder, "manager"
    for an overdue one (jobs/flagging.py). Staff get their stores' tasks and alerts; a
    manager their region's escalations and alerts; an admin every escalation and alert."""
    if role == "staff":
        return {
            "callbacks": {"store_id": sorted(stores), "audience": ["staff"]},
            "alerts": {"store_id": sorted(stores)},
        }
    if role == "manager":
        return {
            "callbacks": {"region": sorted(regions), "audience": ["manager"]},
            "alerts": {"region": sorted(regions)},
        }
    return {"callbacks": {"audience": ["manager"]}, "alerts": None}
