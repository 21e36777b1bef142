"""Each Monday, one message per store to its managers: CSAT and trend, top reasons,
callbacks on time, silent kiosks."""

from __future__ import annotations

from datetime import datetime


def send_weekly_digests(now: datetime) -> int:
    """Send the digests due at `now` (once per store and week); returns how many were sent."""
    return 0
