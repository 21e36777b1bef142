"""The store-alert rule with plain values."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.domain.aggregates import Tally
from chalicelib.domain.alerts import alert_message, significantly_worse, wilson_interval
from chalicelib.domain.survey import Scale

pytestmark = pytest.mark.unit

FIVE_POINT = Scale(kind="smiley", min=1, max=5)


def tally(**scores: int) -> Tally:
    """tally(s1=3, s5=7): three 1s and seven 5s."""
    result = Tally()
    for key, count in scores.items():
        for _ in range(count):
            result.add_rating({"score": int(key[1:]), "channel": "kiosk", "source_id": "k1"})
    return result


@pytest.mark.parametrize(
    ("successes", "trials", "low", "high"),
    [(0, 10, 0.0, 0.2775), (1, 3, 0.0615, 0.7923), (50, 100, 0.4038, 0.5962)],
)
def test_wilson_interval_matches_published_values(successes, trials, low, high):
    lower, upper = wilson_interval(successes, trials)

    assert (round(lower, 4), round(upper, 4)) == (low, high)


@given(st.integers(min_value=1, max_value=500), st.data())
def test_the_interval_holds_the_observed_share(trials, data):
    successes = data.draw(st.integers(min_value=0, max_value=trials))

    lower, upper = wilson_interval(successes, trials)

    assert 0 <= lower <= successes / trials <= upper <= 1


def test_two_sad_taps_out_of_three_page_nobody():
    assert not significantly_worse(tally(s1=2, s5=1), tally(s5=90, s1=10), FIVE_POINT)


def test_a_clearly_bad_hour_against_a_good_week_alerts():
    assert significantly_worse(tally(s1=10, s4=2), tally(s5=85, s2=15), FIVE_POINT)


def test_a_slightly_worse_hour_does_not():
    assert not significantly_worse(tally(s5=7, s2=3), tally(s5=85, s2=15), FIVE_POINT)


def test_no_baseline_no_alert():
    assert not significantly_worse(tally(s1=40), tally(s5=20), FIVE_POINT)


def test_the_message_carries_the_window_its_interval_and_the_baseline():
    window = tally(s1=8, s4=1, s5=1)
    baseline = tally(s5=60, s2=20)

    message = alert_message(
        store_name="Harbour St",
        period="day",
        start=datetime(2026, 11, 19, tzinfo=ZoneInfo("Europe/Berlin")),
        window=window,
        baseline=baseline,
        scale=FIVE_POINT,
        quiet_until=datetime(2026, 11, 21, 0, 5, tzinfo=ZoneInfo("Europe/Berlin")),
    )

    low, high = wilson_interval(2, 10)
    assert (round(100 * low), round(100 * high)) == (6, 51)
    assert message == (
        "Harbour St: satisfaction in the day from 2026-11-19 00:00 was 20% "
        "(95% interval 6-51%, 10 answers; 4+ counts as satisfied), against 75% over the "
        "previous 7 days (80 answers). No further alert for this store until 2026-11-21 00:05."
    )
