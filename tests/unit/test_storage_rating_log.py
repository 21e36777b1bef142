"""The rating log's writes on plain values (storage/rating_log.py): an hour crowded with
ratings of one arrival slice is spread over parts, and no entry is lost."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from chalicelib.storage import rating_log
from chalicelib.storage.rating_log import LoggedRating


def test_the_log_spreads_a_crowded_hour_over_parts_and_loses_no_entry(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(rating_log, "LOG_ENTRIES", 100)
    logged = [
        LoggedRating(f"2026-11-01T04:{i // 60:02d}:{i % 60:02d}.000+00:00", f"r-{i}")
        for i in range(250)
    ] + [LoggedRating("2026-11-01T05:00:00.000+00:00", "r-next-hour")]
    actions = rating_log.log_writes("store-a", datetime(2026, 11, 1, 5, tzinfo=UTC), logged)

    keys = [action["Update"]["Key"]["sk"]["S"] for action in actions]
    assert keys == [f"2026-11-01T04#2026-11-01T05:00#{part}" for part in range(3)] + [
        "2026-11-01T05#2026-11-01T05:00#0"
    ]
    entries = [
        entry
        for action in actions
        for entry in action["Update"]["ExpressionAttributeValues"][":entries"]["SS"]
    ]
    assert sorted(entries) == sorted(f"{r.tapped_at}|{r.rating_id}" for r in logged)
    assert all("ADD ratings" in action["Update"]["UpdateExpression"] for action in actions)
