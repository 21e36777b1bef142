"""`rebuild(since)` recomputes the partials of the arrival hours from `since` on and leaves
every earlier one as it is: each hour, day and week bucket is the same before and after a
rebuild from any SINCE, and equal to the figures computed straight from the raw ratings
(issue 11, point 1). On DynamoDB Local only: these histories take moto about twice as
long (some 150 s of the suite's budget), and the same rebuild-equals-raw property runs on
moto in tests/unit/test_aggregation_property.py."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib.domain.aggregates import GRANULARITIES
from chalicelib.domain.ratings import Rating
from chalicelib.jobs.aggregate import aggregate, floor_hour, parse_since, rebuild
from chalicelib.storage import aggregates, stores
from tests.conftest import make_store
from tests.integration.factories import NOW, put, scheduled_runs
from tests.oracle import expected_buckets

pytestmark = pytest.mark.parametrize("storage", ["dynamodb_local"], indirect=True)

ZONES = {"store-a": "America/New_York", "store-c": "Asia/Shanghai"}
START = datetime(2026, 11, 10, tzinfo=UTC)  # the first arrival hour the runs read
WINDOW = (START - timedelta(days=14), NOW + timedelta(days=1))


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def history() -> list[Rating]:
    """Ten days of ratings in two time zones, with late offline batches and repeat presses
    that span arrival hours."""
    scores = itertools.cycle([5, 2, 4, 1, 3, 5, 4])
    made: list[Rating] = []

    def add(store_id: str, tapped: str, arrived: str | None = None, **extra: Any) -> None:
        tapped_at = utc(tapped)
        received = utc(arrived) if arrived else tapped_at + timedelta(seconds=20)
        made.append(put(store_id, next(scores), tapped_at=tapped_at, received_at=received, **extra))

    for store_id in ZONES:
        add(store_id, "2026-11-10T14:00:00")  # the previous week
        add(store_id, "2026-11-11T03:00:00")  # the 10th in New York, the 11th in Shanghai
        add(store_id, "2026-11-16T03:00:00")  # Sunday in New York, Monday in Shanghai
        add(store_id, "2026-11-18T04:30:00")  # 23:30 the day before in New York
        add(store_id, "2026-11-18T05:30:00")  # 00:30 in New York
        add(store_id, "2026-11-18T14:10:00")
        add(store_id, "2026-11-18T14:45:00")
        add(store_id, "2026-11-18T15:10:00", reasons=["staff"], expectation="worse")
        add(store_id, "2026-11-19T10:00:00", channel="sms", source_id=f"sms-{store_id}")
        add(store_id, "2026-11-19T20:00:00")
        add(store_id, "2026-11-20T12:00:00")
    # An offline kiosk syncing days later: taps of the 12th to the 14th arrive on the 17th,
    # with a run of repeat presses among them.
    for tapped in ("2026-11-12T15:00:00", "2026-11-13T16:00:00", "2026-11-14T17:00:00"):
        add("store-a", tapped, "2026-11-17T10:00:00", source_id="k-offline")
    for tapped in ("2026-11-14T17:00:05", "2026-11-14T17:00:10"):
        add("store-a", tapped, "2026-11-17T10:00:01", source_id="k-offline")
    # Repeat presses sent one per request across an arrival hour (and the SINCE below).
    for tapped in ("2026-11-18T13:59:50", "2026-11-18T13:59:58", "2026-11-18T14:00:05"):
        sent = (utc(tapped) + timedelta(seconds=1)).isoformat()
        add("store-a", tapped, sent, source_id="k-chain")
    return made


def expected(made: list[Rating]) -> dict[tuple[str, str], dict[str, Any]]:
    return expected_buckets(made, ZONES)


def stored() -> dict[tuple[str, str], dict[str, Any]]:
    """Every hour, day and week bucket of both stores, as the store layer reads them."""
    return {
        (store_id, granularity): {
            start: tally.model_dump()
            for start, tally in aggregates.bucket_tallies(store_id, granularity, *WINDOW).items()
        }
        for store_id in ZONES
        for granularity in GRANULARITIES
    }


@pytest.fixture
def aggregated(store: Any) -> list[Rating]:
    stores.put_store(make_store("store-c", timezone="Asia/Shanghai"))
    made = history()
    aggregates.advance_watermark(None, START)
    scheduled_runs(NOW)  # ten days of slices
    return made


# Each rebuild must leave the buckets as they were, so one aggregated history (the costly part:
# ten days of scheduled slices) serves every SINCE, one rebuild after another.
# A rebuild reads every arrival hour from its SINCE on (a Query per shard and hour), so these
# are the SINCEs that each cover a case of their own; "everything" (the 10th) is the 16th's
# case with more hours, and rebuilds of any range run on moto in test_aggregation_property.
SINCES = [
    "2026-11-18",  # two days ago (the audit's probe)
    # A Wednesday morning in New York, inside every week: 14:30 UTC, so the rebuild starts
    # at 14:00, the hour a run of repeat presses spans.
    "2026-11-18T09:30:00-05:00",
    "2026-11-17T12:00:00+00:00",  # after the late batch of the 12th-14th arrived
    "2026-11-16",  # before it arrived
    "2026-11-20",  # today only
]


def test_rebuilds_from_any_since_one_after_another_leave_every_bucket_as_computed_from_raw(
    api, aggregated, staff_headers
):
    def figures() -> list[Any]:
        return [
            api.http.get(
                f"/v1/stores/store-a/satisfaction?granularity={granularity}"
                "&from=2026-11-09&to=2026-11-20",
                headers=staff_headers,
            ).json_body["buckets"]
            for granularity in ("day", "week")
        ]

    before, shown = stored(), figures()
    assert before == expected(aggregated)

    for since in SINCES:
        run = rebuild(parse_since(since), NOW)

        assert stored() == before, since
        # It reads the arrival hours from SINCE's UTC hour on, and no earlier one.
        first = floor_hour(parse_since(since))
        assert run.ratings == sum(r.received_at >= first for r in aggregated), since

    days, weeks = figures()
    assert [days, weeks] == shown
    assert [d["start"][:10] for d in days] == [
        "2026-11-10",
        "2026-11-12",
        "2026-11-13",
        "2026-11-14",
        "2026-11-15",
        "2026-11-17",
        "2026-11-18",
        "2026-11-19",
        "2026-11-20",
    ]
    assert [w["start"][:10] for w in weeks] == ["2026-11-09", "2026-11-16"]


def test_a_rebuild_leaves_the_watermark_to_the_scheduled_runs(store):
    aggregates.advance_watermark(None, NOW.replace(minute=0) - timedelta(hours=1))
    put(score=1, received_at=NOW - timedelta(minutes=5))
    mark = aggregates.watermark()

    rebuild(NOW - timedelta(days=1), NOW)

    assert aggregates.watermark() == mark  # the hours not yet final are still to be read


def test_a_late_rating_of_the_rebuilt_range_counts_in_its_old_bucket_once(store):
    # Two hours of arrivals (not the ten days of `aggregated`): taps of the 11th that came in
    # offline, and one of now, in the arrival hour the rebuild below starts at.
    stores.put_store(make_store("store-c", timezone="Asia/Shanghai"))
    offline = NOW - timedelta(minutes=45)
    made = [
        put("store-a", 5, tapped_at=utc("2026-11-11T03:00:00"), received_at=offline),
        put("store-c", 2, tapped_at=utc("2026-11-11T03:00:00"), received_at=offline),
        put(
            "store-a",
            4,
            tapped_at=utc("2026-11-20T18:05:00"),
            received_at=utc("2026-11-20T18:05:20"),
        ),
    ]
    aggregates.advance_watermark(None, floor_hour(NOW - timedelta(hours=2)))
    scheduled_runs(NOW)
    late = put(
        "store-a",
        1,
        tapped_at=utc("2026-11-11T03:00:30"),
        received_at=NOW - timedelta(minutes=2),
    )
    aggregate(NOW + timedelta(minutes=1))
    before = stored()

    rebuild(parse_since("2026-11-20T18:00:00+00:00"), NOW + timedelta(minutes=1))

    assert stored() == before == expected([*made, late])
