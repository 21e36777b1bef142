"""The OpenAPI operations of kiosk health: the kiosk's heartbeat and the fleet view. The
store's kiosk list (`GET /v1/stores/{store_id}/kiosks`, with each kiosk's health) is listed
with the kiosk operations in `openapi.py`."""

from __future__ import annotations

from ..domain.kiosks import Heartbeat
from . import schemas
from .operation import BAD_BODY, KIOSK, NO_CONTENT, NO_CREDENTIAL, STAFF, Operation

OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "POST",
        "/v1/kiosk/heartbeat",
        "post_heartbeat",
        "kiosk",
        "The kiosk page is open: its queue, last sync, app version and battery (sent at "
        "least every 5 minutes; a kiosk silent for 30 minutes of opening hours alerts its "
        "store once)",
        KIOSK,
        {204: NO_CONTENT},
        {400: BAD_BODY, 401: f"{NO_CREDENTIAL}; a kiosk no longer paired"},
        body=Heartbeat,
    ),
    Operation(
        "GET",
        "/v1/kiosks",
        "list_fleet",
        "kiosk health",
        "The paired and pending kiosks of the stores a manager (their regions) or an admin "
        "(the chain) sees, most trouble first: silent the longest, never seen, then the "
        "longest queue and the emptiest battery",
        STAFF,
        {200: schemas.KioskList},
        {401: NO_CREDENTIAL, 403: "staff: they see their store's kiosks on its list"},
    ),
)
