"""The OpenAPI operations of the exports (`export_routes.py`): the ratings and the buckets
of a store as CSV."""

from __future__ import annotations

from .operation import Operation

OPERATIONS: tuple[Operation, ...] = ()
