"""The link survey: the survey to show and rating ingest for a phone that scanned a store's
QR code, with no token; the same ingest as the kiosk's (flows/kiosk_ingest.py), its
ratings stored with `channel: "link"`, behind per-device, per-address and per-store limits."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..auth import KioskPrincipal
from ..config import settings
from ..domain.link import LinkBatchIn, link_source_id
from ..errors import RateLimited
from ..storage import limits
from . import existing_store
from .kiosk_ingest import ingest_batch
from .kiosk_pairing import kiosk_survey


def link_survey(store_code: str) -> dict[str, Any]:
    """What the page shows: the kiosk's survey answer for the store the code names."""
    return kiosk_survey(existing_store(store_code))


def ingest_link_batch(
    store_code: str, batch: LinkBatchIn, client: str, received_at: datetime, started: float
) -> list[dict[str, Any]]:
    """Count the request against the limits (RateLimited when one is reached), then ingest
    it as the kiosk's: per rating `stored`, `duplicate` (a retry), `rejected` or `retry`."""
    store = existing_store(store_code)
    config = settings()
    window = limits.Window.at(received_at, config.link_window_s)
    tries = [
        limits.Limit(f"link-device:{batch.device_id}", config.link_requests_per_device),
        limits.Limit(f"link-client:{client}", config.link_requests_per_client),
        limits.Limit(f"link-store:{store.store_id}", config.link_requests_per_store),
    ]
    if not limits.count_attempt(tries, window):
        raise RateLimited(
            "too many ratings from here; wait before rating again", window.seconds_left(received_at)
        )
    source = KioskPrincipal(kiosk_id=link_source_id(batch.device_id), store_id=store.store_id)
    return ingest_batch(batch, source, store, received_at, started=started, channel="link")
