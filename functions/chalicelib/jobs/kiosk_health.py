"""After aggregation: alert a store once when one of its paired kiosks has been silent for
30 minutes inside opening hours (domain/kiosks.py). The kiosk record keeps which silence
was alerted, so a silence alerts once whatever the runs, and anew after the next heartbeat."""

from __future__ import annotations

from datetime import datetime

from ..config import settings
from ..domain.kiosks import Kiosk, kiosk_health, silent_alert_message
from ..domain.survey import Store
from ..errors import DependencyUnavailable
from ..notify.topics import publish
from ..observability import logger
from ..storage import stores


def check_silent_kiosks(now: datetime) -> int:
    """Raise the kiosk_silent alerts due at `now`; returns how many were raised."""
    raised = 0
    for store in stores.all_stores():
        for kiosk in stores.list_kiosks(store.store_id):
            if _newly_silent(kiosk, store, now) and _alert(kiosk, store):
                raised += 1
    return raised


def _newly_silent(kiosk: Kiosk, store: Store, now: datetime) -> bool:
    # A kiosk never seen has no silence to end: staff see it as never_seen.
    return (
        kiosk.status == "paired"
        and kiosk_health(kiosk, store, now) == "silent"
        and kiosk.silent_alert_for != kiosk.last_seen_at
    )


def _alert(kiosk: Kiosk, store: Store) -> bool:
    if not stores.claim_silent_alert(kiosk):
        return False  # another run alerted this silence, or a heartbeat ended it
    try:
        publish(
            settings().alerts_topic,
            f"storepulse: a kiosk is silent at {store.name}",
            silent_alert_message(kiosk, store),
            {"store_id": store.store_id, "kind": "kiosk_silent", "kiosk_id": kiosk.kiosk_id}
            # Managers subscribe by region (notify/subscriptions.py).
            | ({"region": store.region} if store.region else {}),
        )
    except DependencyUnavailable:
        stores.release_silent_alert(kiosk)
        logger.warning("kiosk silent alert not sent; the next run tries again")
        return False
    logger.info("kiosk silent", extra={"store_id": store.store_id, "kiosk_id": kiosk.kiosk_id})
    return True
