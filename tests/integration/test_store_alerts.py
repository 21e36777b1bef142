"""Store alerts: one per incident (issue 11, point 4). A store that was alerted cools down
(STOREPULSE_ALERT_COOLDOWN_HOURS): no alert for its next bad hour or for the bad day that
holds the alerted hour; after the cool-down a new incident alerts again. Exactly once under
retries and overlapping runs. The clock is frozen: every run is given its `now`. On DynamoDB
Local only: moto takes some 30 s of the suite over these weeks of ratings, the real engine a
few (the rule itself: tests/unit/test_alerts.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chalicelib import config
from chalicelib.errors import DependencyUnavailable
from chalicelib.jobs import alerts
from chalicelib.jobs.aggregate import aggregate
from chalicelib.jobs.alerts import check_alerts
from chalicelib.notify import topics
from chalicelib.storage import aggregates
from tests.integration.factories import put

pytestmark = pytest.mark.parametrize("storage", ["dynamodb_local"], indirect=True)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def bad_hour(start: str, *, count: int = 12, arrived: str | None = None) -> None:
    """`count` unhappy taps in the hour from `start` (UTC), each arriving a minute later
    (or all at `arrived`)."""
    for minute in range(count):
        tapped = utc(start) + timedelta(minutes=2 + minute)
        received = utc(arrived) if arrived else tapped + timedelta(minutes=1)
        put(score=1, tapped_at=tapped, received_at=received, reasons=["staff"])


@pytest.fixture
def good_week(store):
    """Twelve happy answers a day from the 14th to the 19th (New York), and the runs'
    watermark at the hour they arrived in; nothing published yet."""
    for day in range(14, 20):
        for minute in range(12):
            put(
                score=5,
                tapped_at=utc(f"2026-11-{day}T15:00:00") + timedelta(minutes=minute),
                received_at=utc("2026-11-20T17:00:30"),
            )
    aggregates.advance_watermark(None, utc("2026-11-20T17:00:00"))
    topics.PUBLISHED.clear()
    return store


def published() -> list[str]:
    return [entry["message"] for entry in topics.PUBLISHED]


def run(at: str) -> list[str]:
    """One scheduled run at `at` (UTC): aggregation, then the alerts."""
    aggregate(utc(at))
    return check_alerts(["store-a"], utc(at))


def test_one_alert_per_incident_and_a_new_one_after_the_cool_down(good_week):
    bad_hour("2026-11-20T17:00:00")  # 12:00-13:00 in New York

    first = run("2026-11-20T18:05:00")
    retried = check_alerts(["store-a"], utc("2026-11-20T18:05:00"))
    bad_hour("2026-11-20T18:00:00")  # the next hour is as bad
    next_hour = run("2026-11-20T19:05:00")
    the_bad_day = run("2026-11-21T05:05:00")  # 00:05 in New York: the 20th is closed

    assert first == ["store-a/hour/2026-11-20T12:00:00-05:00"]
    assert retried == next_hour == the_bad_day == []
    assert len(published()) == 1

    bad_hour("2026-11-21T17:00:00")  # a day later: a new incident
    after = run("2026-11-21T18:10:00")

    assert after == ["store-a/hour/2026-11-21T12:00:00-05:00"]
    assert len(published()) == 2


def test_the_bad_day_that_holds_an_alerted_hour_never_alerts(good_week):
    bad_hour("2026-11-20T17:00:00")
    bad_hour("2026-11-20T18:00:00")
    assert run("2026-11-20T19:05:00") == ["store-a/hour/2026-11-20T13:00:00-05:00"]

    # Long after the cool-down the 20th is still the last closed day until midnight.
    late_in_the_day = [run(f"2026-11-21T{hour}:05:00") for hour in ("19", "21", "23")]
    next_morning = run("2026-11-22T04:30:00")

    assert late_in_the_day == [[], [], []]
    assert next_morning == []
    assert len(published()) == 1


def test_a_day_alert_starts_the_cool_down_too(good_week):
    for hour in range(5, 21, 3):  # a bad day, no hour of it bad enough on its own
        bad_hour(f"2026-11-20T{hour:02}:00:00", count=4, arrived="2026-11-20T20:30:00")

    at_midnight = run("2026-11-21T05:05:00")
    bad_hour("2026-11-21T06:00:00")  # 01:00 in New York
    an_hour_later = run("2026-11-21T07:05:00")

    assert at_midnight == ["store-a/day/2026-11-20T00:00:00-05:00"]
    assert an_hour_later == []
    assert len(published()) == 1


def test_the_cool_down_is_a_setting(good_week, monkeypatch):
    monkeypatch.setenv("STOREPULSE_ALERT_COOLDOWN_HOURS", "2")
    config.settings.cache_clear()
    for hour in (17, 18, 19):  # 12:00 to 15:00 in New York
        bad_hour(f"2026-11-20T{hour}:00:00")

    raised = [
        run(at) for at in ("2026-11-20T18:05:00", "2026-11-20T19:05:00", "2026-11-20T20:04:00")
    ]
    two_hours_later = check_alerts(["store-a"], utc("2026-11-20T20:06:00"))

    assert raised == [["store-a/hour/2026-11-20T12:00:00-05:00"], [], []]
    assert two_hours_later == ["store-a/hour/2026-11-20T14:00:00-05:00"]
    config.settings.cache_clear()


def test_overlapping_runs_send_one_alert(good_week, monkeypatch):
    bad_hour("2026-11-20T17:00:00")
    aggregate(utc("2026-11-20T18:05:00"))
    real = alerts.publish
    meanwhile: list[list[str]] = []

    def another_run_first(*args, **kwargs):
        if not meanwhile:
            meanwhile.append(check_alerts(["store-a"], utc("2026-11-20T18:05:00")))
        return real(*args, **kwargs)

    monkeypatch.setattr(alerts, "publish", another_run_first)
    raised = check_alerts(["store-a"], utc("2026-11-20T18:05:00"))

    assert raised == ["store-a/hour/2026-11-20T12:00:00-05:00"]
    assert meanwhile == [[]]
    assert len(published()) == 1


def test_an_alert_that_could_not_be_sent_is_sent_by_the_next_run(good_week, monkeypatch):
    bad_hour("2026-11-20T17:00:00")
    aggregate(utc("2026-11-20T18:05:00"))

    def down(*args, **kwargs):
        raise DependencyUnavailable("SNS is down", retry_after=5)

    monkeypatch.setattr(alerts, "publish", down)
    failed = check_alerts(["store-a"], utc("2026-11-20T18:05:00"))
    monkeypatch.undo()
    sent = check_alerts(["store-a"], utc("2026-11-20T18:10:00"))

    assert failed == []
    assert sent == ["store-a/hour/2026-11-20T12:00:00-05:00"]
    assert len(published()) == 1


def test_the_alert_carries_the_figures(good_week):
    bad_hour("2026-11-20T17:00:00", count=10)
    put(score=4, tapped_at=utc("2026-11-20T17:40:00"), received_at=utc("2026-11-20T17:41:00"))
    put(score=5, tapped_at=utc("2026-11-20T17:45:00"), received_at=utc("2026-11-20T17:46:00"))

    run("2026-11-20T18:05:00")

    (message,) = published()
    assert message == (
        "Store store-a: satisfaction in the hour from 2026-11-20 12:00 was 17% "
        "(95% interval 5-45%, 12 answers; 4+ counts as satisfied), against 100% over the "
        "previous 7 days (72 answers). Top reasons: staff (10). "
        "No further alert for this store until 2026-11-21 13:05."
    )
