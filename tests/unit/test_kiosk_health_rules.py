"""Kiosk health rules on plain values (domain/kiosks.py): silent after 30 minutes of the
store's opening hours, never_seen before the first heartbeat; the alert's one line."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.domain.kiosks import Kiosk, kiosk_health, silent_alert_message
from tests.conftest import make_store

SEEN = datetime(2026, 11, 20, 21, 45, tzinfo=UTC)  # a Friday, 16:45 in New York


def kiosk(**fields) -> Kiosk:
    values = {"kiosk_id": "k-1", "store_id": "store-a", "status": "paired"}
    return Kiosk(created_at=SEEN - timedelta(days=1), **(values | fields))


@pytest.mark.parametrize(
    ("opening_hours", "now", "health"),
    [
        (None, SEEN + timedelta(minutes=29, seconds=59), "ok"),
        (None, SEEN + timedelta(minutes=30), "silent"),
        # open 9-17 on weekdays: 15 minutes on Friday, the weekend closed, 15 on Monday
        ({d: (9, 17) for d in range(5)}, datetime(2026, 11, 22, 17, 0, tzinfo=UTC), "ok"),
        ({d: (9, 17) for d in range(5)}, datetime(2026, 11, 23, 14, 14, tzinfo=UTC), "ok"),
        ({d: (9, 17) for d in range(5)}, datetime(2026, 11, 23, 14, 15, tzinfo=UTC), "silent"),
    ],
)
def test_silence_is_counted_in_opening_hours(opening_hours, now, health):
    store = make_store(opening_hours=opening_hours)

    assert kiosk_health(kiosk(last_seen_at=SEEN), store, now) == health


def test_a_kiosk_never_heard_from_is_never_seen_not_silent():
    assert kiosk_health(kiosk(), make_store(), SEEN + timedelta(days=30)) == "never_seen"


def test_the_alert_names_the_kiosk_in_the_store_time_on_one_inert_line():
    label = "Till 2\nOVERDUE: call https://evil.example"
    message = silent_alert_message(kiosk(last_seen_at=SEEN, label=label), make_store())

    assert "2026-11-20 16:45 (America/New_York)" in message
    assert "(k-1)" in message
    assert "\n" not in message
    assert "https://" not in message
