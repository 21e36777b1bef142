"""Kiosks and their pairing."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Literal
from uuid import uuid4

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from .survey import Store

KioskStatus = Literal["pending", "paired", "revoked"]
KioskHealth = Literal["ok", "silent", "never_seen"]

# A kiosk that sent no heartbeat for this long, counted in its store's opening hours, is silent
# (the page sends one every 5 minutes: six missed in a row).
SILENT_AFTER = timedelta(minutes=30)


# defer_build: schemas are built on first use; the kiosk ingest path (a cold-start budget)
# never uses these.
class Kiosk(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)

    kiosk_id: str
    store_id: str
    status: KioskStatus
    label: str | None = None
    created_at: datetime
    paired_at: datetime | None = None
    revoked_at: datetime | None = None
    # From the kiosk's last heartbeat (POST /v1/kiosk/heartbeat).
    last_seen_at: datetime | None = None
    last_sync_at: datetime | None = None
    queue_length: int | None = None
    app_version: str | None = None
    battery: float | None = None
    # The last_seen_at whose silence was alerted (storage's once-per-silence mark); internal.
    silent_alert_for: datetime | None = Field(default=None, exclude=True)


class Heartbeat(BaseModel):
    """What a kiosk page reports every 5 minutes while it is open."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    queue_length: int = Field(ge=0, le=100_000, description="ratings waiting on the tablet")
    last_sync_at: AwareDatetime | None = Field(
        description="when the page last sent its queue or fetched the survey (null: never)"
    )
    app_version: str = Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9._+-]+$")
    battery: float | None = Field(default=None, ge=0, le=1, description="0..1, where known")


def kiosk_health(kiosk: Kiosk, store: Store, now: datetime) -> KioskHealth:
    """ok, silent (no heartbeat for SILENT_AFTER of the store's opening hours) or never_seen."""
    silent_at = silent_since(kiosk, store)
    if silent_at is None:
        return "never_seen"
    return "silent" if silent_at <= now else "ok"


def silent_since(kiosk: Kiosk, store: Store) -> datetime | None:
    """When the kiosk becomes silent if no heartbeat comes (None: never seen). The silence
    counts opening hours only, as callback deadlines do: a tablet switched off at closing is
    silent 30 minutes after the next opening, not during the night."""
    if kiosk.last_seen_at is None:
        return None
    from .tasks import due_at  # not at import: the heartbeat route needs none of tasks' models

    return due_at(kiosk.last_seen_at, store.timezone, store.opening_hours, SILENT_AFTER)


def silent_alert_message(kiosk: Kiosk, store: Store) -> str:
    """The store alert for a silent kiosk: which one, since when in the store's time."""
    from zoneinfo import ZoneInfo

    from .text import quote_for_notification

    assert kiosk.last_seen_at is not None
    seen = kiosk.last_seen_at.astimezone(ZoneInfo(store.timezone))
    name = kiosk.kiosk_id
    if kiosk.label:
        name = f"{quote_for_notification(kiosk.label, 80)} ({kiosk.kiosk_id})"
    return (
        f"Kiosk {name} at {store.name} has sent nothing since "
        f"{seen:%Y-%m-%d %H:%M} ({store.timezone}): {SILENT_AFTER.seconds // 60} minutes or "
        "more of opening hours. Check that the tablet is on, charged and online."
    )


class PairingRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    pairing_code: str = Field(pattern=r"^\d{6}$", description="the 6-digit code staff were given")


class NewKioskRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    label: str | None = Field(default=None, max_length=80)


def new_kiosk_id() -> str:
    return f"k-{uuid4().hex[:12]}"


def new_pairing_code() -> str:
    """Six random digits from a CSPRNG; single use and short lived, so guessing is bounded."""
    return f"{secrets.randbelow(1_000_000):06d}"
