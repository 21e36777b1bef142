"""Visits: a store system's reference for one visit (a receipt's barcode, the POS's
transaction id), carried by an invitation and by kiosk or link ratings. Per store, one
visit counts once: the first answer received; the others are kept, marked `same_visit`."""

from __future__ import annotations

from uuid import NAMESPACE_URL, uuid5

MAX_VISIT_REF = 100
VISIT_REF = r"^[^\x00-\x1f\x7f]+$"  # any text but control characters


def visit_id(store_id: str, visit_ref: str) -> str:
    """The visit's id, the same from every channel: its SMS invitation's id too (a store
    system's retry of an invitation names the same visit, so it is the same invitation)."""
    return str(uuid5(NAMESPACE_URL, f"storepulse:{store_id}:{visit_ref}"))
