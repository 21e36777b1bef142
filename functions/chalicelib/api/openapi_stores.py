"""The OpenAPI operations of stores and their surveys."""

from __future__ import annotations

from .operation import Operation

OPERATIONS: tuple[Operation, ...] = ()
