"""After aggregation: alert a store once when one of its kiosks has been silent for 30
minutes inside opening hours."""

from __future__ import annotations

from datetime import datetime


def check_silent_kiosks(now: datetime) -> int:
    """Raise the kiosk_silent alerts due at `now`; returns how many were raised."""
    return 0
