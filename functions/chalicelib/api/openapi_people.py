"""The OpenAPI operations of staff, managers and admins; store-system credentials."""

from __future__ import annotations

from .operation import Operation

OPERATIONS: tuple[Operation, ...] = ()
