"""Kiosk pairing: staff issue a one-time pairing code for a new kiosk, the kiosk redeems it
for its token and the survey to show; staff revoke a kiosk. Wrong codes are counted and
limited: a code names no store until it is found, so the whole code space is the target
(docs/security.md: the odds)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from ..auth import issue_kiosk_token
from ..config import settings
from ..domain.consent import kiosk_survey_consent
from ..domain.kiosks import Kiosk, new_kiosk_id, new_pairing_code
from ..domain.survey import Store
from ..errors import DependencyUnavailable, InvalidPairingCode, NotFound, RateLimited
from ..observability import logger
from ..storage import limits, stores
from . import existing_store

_CODE_ATTEMPTS = 5


def new_pairing(store_id: str, label: str | None, at: datetime) -> dict[str, Any]:
    """A pending kiosk of the store and the code that pairs it, valid `pairing_code_ttl_s`."""
    expires_at = at + timedelta(seconds=settings().pairing_code_ttl_s)
    kiosk = Kiosk(
        kiosk_id=new_kiosk_id(), store_id=store_id, status="pending", label=label, created_at=at
    )
    for _ in range(_CODE_ATTEMPTS):  # a live code is unique; collisions are rare, retry a few
        code = new_pairing_code()
        if stores.create_kiosk(kiosk, code, expires_at):
            break
    else:
        raise DependencyUnavailable("no free pairing code right now; retry", 1)
    logger.info("kiosk created", extra={"kiosk_id": kiosk.kiosk_id, "store_id": store_id})
    return {
        "kiosk_id": kiosk.kiosk_id,
        "pairing_code": code,
        "expires_at": expires_at.isoformat(timespec="seconds"),
    }


def revoke(store_id: str, kiosk_id: str, at: datetime) -> Kiosk:
    """The kiosk revoked: its token stops working (within the revocation cache's life)."""
    kiosk = stores.revoke_kiosk(store_id, kiosk_id, at)
    if kiosk is None:
        raise NotFound(f"kiosk {kiosk_id} does not exist in store {store_id}")
    logger.info("kiosk revoked", extra={"kiosk_id": kiosk_id, "store_id": store_id})
    return kiosk


def pair(pairing_code: str, client: str, at: datetime) -> dict[str, Any]:
    """Redeem a pairing code sent from `client` (its address): the kiosk, its token and the
    survey to show. A right code does not count against the client's tries."""
    tries = _pairing_limits(client)
    window = limits.Window.at(at, settings().pairing_window_s)
    if not limits.count_attempt(tries, window):
        raise RateLimited(
            "too many pairing attempts; wait before trying again", window.seconds_left(at)
        )
    kiosk = stores.redeem_pairing_code(pairing_code, at)
    if kiosk is None:
        raise InvalidPairingCode("the pairing code is unknown, used or expired")
    limits.uncount_attempt(tries, window)
    store = existing_store(kiosk.store_id)
    logger.info("kiosk paired", extra={"kiosk_id": kiosk.kiosk_id, "store_id": kiosk.store_id})
    return {
        "kiosk_id": kiosk.kiosk_id,
        "store_id": kiosk.store_id,
        "token": issue_kiosk_token(kiosk.kiosk_id, kiosk.store_id, at),
        "survey": kiosk_survey(store),
    }


def _pairing_limits(client: str) -> list[limits.Limit]:
    """Wrong codes per client, and from everyone together."""
    config = settings()
    return [
        limits.Limit(f"pairing-client:{client}", config.pairing_tries_per_client),
        limits.Limit("pairing-all", config.pairing_tries_per_window),
    ]


def kiosk_survey(store: Store) -> dict[str, Any]:
    """The survey as a kiosk needs it, with the store's name and phone country, and the
    callback consent text to show (its version comes back with the callback)."""
    return {
        **store.survey.model_dump(mode="json"),
        "store_name": store.name,
        "country": store.country,
        "consent": kiosk_survey_consent(),
    }
