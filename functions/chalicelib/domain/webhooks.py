"""Signed webhooks out: a store's endpoints, the signature of what is sent to them, and when
a failed delivery is tried again.

The signature is a contract other systems parse: the header
`Storepulse-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">` keyed with
the endpoint's secret, over the exact bytes of the body.
"""

from __future__ import annotations

import hashlib
import hmac
import random
import secrets
from datetime import datetime, timedelta
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

from .text import quote_for_notification

SIGNATURE_HEADER = "Storepulse-Signature"
WebhookEvent = Literal["callback_task", "store_alert"]
MAX_URL_LENGTH = 500
MAX_WEBHOOKS_PER_STORE = 10
# A delivery is retried until this long after its event, then given up.
RETRY_WINDOW = timedelta(hours=24)
FIRST_RETRY_S = 30.0
LONGEST_WAIT_S = 3600.0
# Customer text in an event body: one inert line, as in the notifications.
TEXT_LIMIT = 300


class NewWebhook(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(max_length=MAX_URL_LENGTH)
    events: list[WebhookEvent] = Field(min_length=1, max_length=2)

    @field_validator("url")
    @classmethod
    def _https_without_credentials(cls, url: str) -> str:
        parts = urlsplit(url)
        if parts.scheme != "https" or not parts.hostname:
            raise ValueError("must be an https:// URL with a host")
        if parts.username is not None or parts.password is not None:
            raise ValueError("must not carry credentials")
        return url

    @field_validator("events")
    @classmethod
    def _distinct(cls, events: list[WebhookEvent]) -> list[WebhookEvent]:
        return sorted(set(events))


class Webhook(BaseModel):
    """An endpoint as stored (its secret never leaves storage but to sign)."""

    model_config = ConfigDict(extra="ignore")

    store_id: str
    webhook_id: str
    url: str
    events: list[WebhookEvent]
    secret: str
    created_at: str


class Delivery(BaseModel):
    """One event for one endpoint: its body is fixed when the event happens, so every
    attempt sends the same bytes (and the same `delivery_id`, for receivers to deduplicate)."""

    model_config = ConfigDict(extra="ignore")

    delivery_id: str
    store_id: str
    webhook_id: str
    body: str
    event_at: str
    attempt: int = 0
    next_attempt_at: str


def new_secret() -> str:
    return "whsec_" + secrets.token_hex(32)


def signature(secret: str, body: bytes, at: datetime) -> str:
    """The `Storepulse-Signature` header value for `body` sent at `at`."""
    t = int(at.timestamp())
    digest = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={digest}"


def retry_wait_s(attempt: int, rng: random.Random | None = None) -> float:
    """Seconds to wait after failed attempt number `attempt` (1, 2, ...): exponential from
    FIRST_RETRY_S, capped at LONGEST_WAIT_S, with full jitter on its upper half so that
    endpoints failing together do not come back together."""
    ceiling = min(LONGEST_WAIT_S, FIRST_RETRY_S * 2.0 ** (attempt - 1))
    jitter = (rng or random.Random()).uniform(0, ceiling / 2)  # noqa: S311 - not a secret
    return ceiling / 2 + jitter


def gives_up(event_at: datetime, next_at: datetime) -> bool:
    """True when the next attempt would fall past the retry window."""
    return next_at > event_at + RETRY_WINDOW


def event_text(text: str) -> str:
    """Customer text as it may appear in an event body."""
    return quote_for_notification(text, TEXT_LIMIT)
