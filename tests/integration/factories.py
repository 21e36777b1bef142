"""Ratings for the integration tests: stored straight through the storage layer around a
fixed NOW (`put`), and read back whole (`stored_ratings`)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from chalicelib.domain.ratings import Rating
from chalicelib.errors import DependencyUnavailable
from chalicelib.jobs.aggregate import aggregate
from chalicelib.storage import ratings

NOW = datetime(2026, 11, 20, 18, 30, tzinfo=UTC)  # 13:30 in New York


def put(
    store_id: str = "store-a",
    score: int = 4,
    tapped_at: datetime | None = None,
    received_at: datetime | None = None,
    **extra: Any,
) -> Rating:
    """A kiosk rating of the default survey, stored (received ten minutes before NOW, tapped
    a minute before it arrived, unless told); any other Rating field as a keyword."""
    received = received_at or NOW - timedelta(minutes=10)
    rating = Rating(
        rating_id=str(uuid.uuid4()),
        store_id=store_id,
        channel=extra.pop("channel", "kiosk"),
        source_id=extra.pop("source_id", f"k-{uuid.uuid4().hex[:6]}"),
        survey_id="default-smiley-5",
        score=score,
        tapped_at=tapped_at or received - timedelta(minutes=1),
        received_at=received,
        **extra,
    )
    assert ratings.put_rating(rating)
    return rating


def stored_ratings() -> list[dict[str, Any]]:
    """Every rating item in the table (a scan: fine in a test, never in the app)."""
    return [rating.model_dump() for rating in ratings.every_rating()]


def scheduled_runs(now: datetime, runs: int = 500) -> None:
    """Aggregation runs at `now` until one ends with nothing left, as the schedule would
    run them: a run out of time leaves the rest to the next, and so does one whose storage
    failed (DynamoDB Local on a busy machine can take longer than a call's 2 s read
    timeout with a transaction of 100 updates; the runs are safe to repeat)."""
    for _ in range(runs):
        try:
            if not aggregate(now).out_of_time:
                return
        except DependencyUnavailable:
            continue
    raise AssertionError(f"aggregation not done after {runs} runs")
