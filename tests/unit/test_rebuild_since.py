"""`make rebuild-aggregates SINCE=...`: how SINCE is read, and how the rebuild's deletes back off
when DynamoDB leaves some unprocessed (plain values; the rebuild itself is
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


class Throttled:
    """A DynamoDB client whose BatchWriteItem leaves the whole batch unprocessed `times`
    times (a partition at its limit), then takes it."""

    def __init__(self, times: int) -> None:
        self.times, self.calls = times, 0

    def batch_write_item(self, RequestItems: dict) -> dict:  # botocore names it so
        self.calls += 1
        if self.calls <= self.times:
            return {"UnprocessedItems": RequestItems}
        return {"UnprocessedItems": {}}


def test_unprocessed_writes_are_sent_again_after_a_growing_backoff(monkeypatch):
    """The rebuild's deletes: what DynamoDB leaves unprocessed is not resent at once."""
    from chalicelib.storage import dynamodb

    client = Throttled(times=3)
    waits: list[float] = []
    monkeypatch.setattr(dynamodb, "client", lambda: client)
    monkeypatch.setattr(dynamodb.random, "uniform", lambda low, high: high)  # the ceiling
    monkeypatch.setattr(dynamodb.time, "sleep", waits.append)

    dynamodb.batch_write([{"DeleteRequest": {"Key": {}}}])  # the fake takes any

    assert client.calls == 4
    assert waits == [0.05, 0.1, 0.2]  # doubling, with full jitter below each


def test_writes_still_unprocessed_after_the_last_attempt_fail_the_run(monkeypatch):
    from chalicelib.errors import DependencyUnavailable
    from chalicelib.storage import dynamodb

    client = Throttled(times=100)
    monkeypatch.setattr(dynamodb, "client", lambda: client)
    monkeypatch.setattr(dynamodb.time, "sleep", lambda seconds: None)

    with pytest.raises(DependencyUnavailable):
        dynamodb.batch_write([{"DeleteRequest": {"Key": {}}}])  # the fake takes any
    assert client.calls == dynamodb.BATCH_ATTEMPTS
