"""Kiosks and their pairing."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Literal
from uuid import uuid4

from pydantic import BaseModel, ConfigDict, Field

KioskStatus = Literal["pending", "paired", "revoked"]


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
