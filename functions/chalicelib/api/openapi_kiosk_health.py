"""The OpenAPI operations of kiosk health: the kiosk's heartbeat and the fleet view."""

from __future__ import annotations

from .operation import Operation

OPERATIONS: tuple[Operation, ...] = ()
