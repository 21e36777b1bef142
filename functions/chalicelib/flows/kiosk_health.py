"""Kiosk health for people: a store's kiosks with their health, and the fleet (every kiosk
a manager's regions or an admin's chain holds), sorted by trouble."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..auth import StaffPrincipal
from ..domain.kiosks import Kiosk, kiosk_health, silent_since
from ..domain.survey import Store
from ..errors import Forbidden
from ..storage import stores
from .stores import visible_stores


def kiosk_view(kiosk: Kiosk, store: Store, now: datetime) -> dict[str, Any]:
    """A kiosk as the API shows it: its record and its health at `now`."""
    return kiosk.model_dump(mode="json") | {"health": kiosk_health(kiosk, store, now)}


def store_kiosks(store: Store, now: datetime) -> list[dict[str, Any]]:
    """Every kiosk of the store (revoked ones too), oldest first, with its health."""
    return [kiosk_view(kiosk, store, now) for kiosk in stores.list_kiosks(store.store_id)]


def fleet(principal: StaffPrincipal, now: datetime) -> list[dict[str, Any]]:
    """The paired and pending kiosks of the stores a manager or admin sees, most trouble
    first: silent the longest, then never seen, then the rest by the longest queue and the
    emptiest battery. Staff see their store's kiosks on its page, not a fleet."""
    if principal.role == "staff":
        raise Forbidden("the fleet is for managers and admins; staff see their store's kiosks")
    rows = []
    for store in visible_stores(principal, None):
        for kiosk in stores.list_kiosks(store.store_id):
            if kiosk.status != "revoked":
                rows.append((_trouble(kiosk, store, now), kiosk_view(kiosk, store, now)))
    rows.sort(key=lambda row: row[0])
    return [view for _, view in rows]


def _trouble(kiosk: Kiosk, store: Store, now: datetime) -> tuple[Any, ...]:
    silent_at = silent_since(kiosk, store)
    if silent_at is not None and silent_at <= now:
        return (0, silent_at.timestamp(), 0.0, kiosk.kiosk_id)
    if silent_at is None:
        return (1, 0.0, 0.0, kiosk.kiosk_id)
    battery = 1.0 if kiosk.battery is None else kiosk.battery
    return (2, -(kiosk.queue_length or 0), battery, kiosk.kiosk_id)
