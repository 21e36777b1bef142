"""A store's ratings and satisfaction buckets as CSV, for managers' own reports."""

from __future__ import annotations

from .http import ApiBlueprint

bp = ApiBlueprint(__name__)
