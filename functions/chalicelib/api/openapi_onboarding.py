"""The OpenAPI operations of bulk onboarding from a CSV."""

from __future__ import annotations

from .operation import Operation

OPERATIONS: tuple[Operation, ...] = ()
