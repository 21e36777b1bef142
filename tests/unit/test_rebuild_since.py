"""`make rebuild-aggregates SINCE=...`: how SINCE is read (plain values; the rebuild itself is
tested on both backends in tests/integration/test_rebuild.py)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from chalicelib.jobs.aggregate import parse_since


@pytest.mark.parametrize(
    ("text", "moment"),
    [
        ("2026-11-18", datetime(2026, 11, 18, tzinfo=UTC)),
        ("2026-11-18T09:30:00-05:00", datetime(2026, 11, 18, 14, 30, tzinfo=UTC)),
        ("2026-11-18T09:30", datetime(2026, 11, 18, 9, 30, tzinfo=UTC)),
    ],
)
def test_since_is_a_date_or_a_date_time_read_with_its_offset(text, moment):
    assert parse_since(text) == moment


def test_a_since_that_is_no_date_is_refused_by_name():
    with pytest.raises(ValueError, match="since"):
        parse_since("last tuesday")
