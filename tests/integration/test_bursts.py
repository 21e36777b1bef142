"""Repeat presses are a burst however the taps arrived (issue 11, point 2): one per request,
across an hour, across aggregation runs, in an offline kiosk's late batch. The stored
rating's `burst` flag is what the aggregates leave out; retries and overlapping runs change
nothing. On moto and on DynamoDB Local."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib.auth import KioskPrincipal
from chalicelib.domain.aggregates import bucket_start
from chalicelib.domain.ratings import RatingBatchIn
from chalicelib.flows.kiosk_ingest import ingest_batch
from chalicelib.jobs.aggregate import aggregate, floor_hour
from chalicelib.storage import aggregates, ratings
from tests.conftest import iso, kiosk_rating, now, rating_batch
from tests.integration.callers import post
from tests.integration.factories import NOW, put, stored_ratings

ZONE = "America/New_York"


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def tap(tapped: str, arrived: str | None = None, kiosk: str = "k-1", score: int = 1) -> str:
    """A kiosk rating tapped at `tapped` (UTC) that arrived a second later or at `arrived`."""
    tapped_at = utc(tapped)
    received = utc(arrived) if arrived else tapped_at + timedelta(seconds=1)
    return put(score=score, tapped_at=tapped_at, received_at=received, source_id=kiosk).rating_id


def flags(*rating_ids: str) -> list[bool]:
    found = [ratings.get_rating(rating_id) for rating_id in rating_ids]
    return [rating.burst for rating in found if rating is not None]


def hour_buckets() -> dict[str, tuple[int, int]]:
    """(responses, filtered) of every hour bucket of store-a."""
    start, end = NOW - timedelta(days=30), max(NOW, now()) + timedelta(days=1)
    return {
        key: (tally.responses, tally.filtered)
        for key, tally in aggregates.bucket_tallies("store-a", "hour", start, end).items()
    }


def assert_flags_are_what_the_aggregates_left_out() -> None:
    """Per hour bucket: responses = stored ratings without `burst`, filtered = with it."""
    want: dict[str, list[int]] = {}
    for rating in stored_ratings():
        if rating["store_id"] != "store-a":
            continue
        start = bucket_start(rating["tapped_at"], ZONE, "hour").isoformat()
        want.setdefault(start, [0, 0])[1 if rating["burst"] else 0] += 1
    assert hour_buckets() == {start: (kept, left) for start, (kept, left) in want.items()}


def start_at(moment: str) -> None:
    """The watermark, as earlier runs left it (no week of empty hours to read)."""
    aggregates.advance_watermark(None, floor_hour(utc(moment)))


def test_taps_sent_one_per_request_five_seconds_apart_are_marked_and_left_out(
    api, kiosk_headers, store
):
    aggregates.advance_watermark(None, floor_hour(now()) - timedelta(hours=1))
    first = now() - timedelta(seconds=60)
    taps = [kiosk_rating(score=1, tapped_at=iso(first + timedelta(seconds=s))) for s in (0, 5, 10)]
    for sent in taps:
        response = post(api, kiosk_headers, rating_batch(sent))
        assert response.json_body["results"][0]["status"] == "stored"

    aggregate(now())

    assert flags(*(t["rating_id"] for t in taps)) == [False, True, True]
    assert sum(kept for kept, _ in hour_buckets().values()) == 1
    assert sum(left for _, left in hour_buckets().values()) == 2
    assert_flags_are_what_the_aggregates_left_out()


def test_a_run_across_an_hour_boundary_is_one_burst(store):
    start_at("2026-11-20T17:00:00")
    ids = [tap(t) for t in ("2026-11-20T17:59:50", "2026-11-20T17:59:58", "2026-11-20T18:00:05")]

    aggregate(NOW)

    assert flags(*ids) == [False, True, True]
    assert hour_buckets() == {
        "2026-11-20T12:00:00-05:00": (1, 1),
        "2026-11-20T13:00:00-05:00": (0, 1),
    }
    assert_flags_are_what_the_aggregates_left_out()


@pytest.mark.parametrize(
    ("first_run", "third_tap", "second_run"),
    [
        # The first two taps' arrival hour is final before the third arrives (a retried send).
        ("2026-11-20T17:05:00", ("2026-11-20T17:00:00", "2026-11-20T17:10:00"), "17:15"),
        # All three in the open hour, the third after the first run.
        ("2026-11-20T17:01:00", ("2026-11-20T17:00:00", "2026-11-20T17:03:00"), "17:04"),
    ],
)
def test_a_run_split_across_two_aggregation_runs_is_one_burst(
    store, first_run, third_tap, second_run
):
    start_at("2026-11-20T16:00:00")
    first = tap("2026-11-20T16:59:40", "2026-11-20T16:59:41")
    second = tap("2026-11-20T16:59:50", "2026-11-20T16:59:51")
    aggregate(utc(first_run))
    assert hour_buckets() == {"2026-11-20T11:00:00-05:00": (2, 0)}

    third = tap(*third_tap)
    aggregate(utc(f"2026-11-20T{second_run}:00"))

    assert flags(first, second, third) == [False, True, True]
    assert hour_buckets() == {
        "2026-11-20T11:00:00-05:00": (1, 1),
        "2026-11-20T12:00:00-05:00": (0, 1),
    }
    assert_flags_are_what_the_aggregates_left_out()


def test_an_offline_kiosks_late_batch_joins_the_tap_it_sent_before_going_offline(store):
    start_at("2026-11-18T12:00:00")
    online = tap("2026-11-18T12:00:00")
    aggregate(utc("2026-11-18T13:05:00"))
    aggregates.advance_watermark(aggregates.watermark(), NOW.replace(minute=0))  # idle hours
    # Two days later the kiosk syncs its queue: three taps, the first 6 s after `online`.
    received = NOW - timedelta(minutes=20)
    batch = RatingBatchIn.model_validate(
        rating_batch(
            *(
                kiosk_rating(
                    score=1, tapped_at=iso(utc("2026-11-18T12:00:00") + timedelta(seconds=s))
                )
                for s in (6, 12, 18)
            ),
            sent_at=received,
        )
    )
    results = ingest_batch(batch, KioskPrincipal("k-1", "store-a"), store, received_at=received)
    late = [result["rating_id"] for result in results]
    assert flags(*late) == [False, True, True]  # what ingest saw in the batch

    aggregate(NOW)

    assert flags(online, *late) == [False, True, True, True]
    assert hour_buckets() == {"2026-11-18T07:00:00-05:00": (1, 3)}
    assert_flags_are_what_the_aggregates_left_out()


def test_a_batch_holding_the_same_tap_twice_is_no_burst(api, kiosk_headers, store):
    once = kiosk_rating(tapped_at=iso(now() - timedelta(seconds=20)))
    later = kiosk_rating(tapped_at=iso(now() - timedelta(seconds=15)))

    response = post(api, kiosk_headers, rating_batch(once, once, later))

    assert [r["status"] for r in response.json_body["results"]] == [
        "stored",
        "duplicate",
        "stored",
    ]
    assert flags(once["rating_id"], later["rating_id"]) == [False, False]


def _split_across_runs() -> list[str]:
    """Two taps aggregated, their hour final; the third arrives later, within 10 s."""
    start_at("2026-11-20T16:00:00")
    ids = [tap("2026-11-20T16:59:40"), tap("2026-11-20T16:59:50")]
    aggregate(utc("2026-11-20T17:05:00"))
    ids.append(tap("2026-11-20T17:00:00", "2026-11-20T17:10:00"))
    return ids


def test_a_retried_run_counts_each_tap_once(store):
    ids = _split_across_runs()
    aggregate(utc("2026-11-20T17:15:00"))
    after = hour_buckets()

    for minutes in (15, 16, 20, 65):  # a retry, the next runs, the hour final
        aggregate(utc("2026-11-20T17:00:00") + timedelta(minutes=minutes))

    assert hour_buckets() == after
    assert flags(*ids) == [False, True, True]
    assert sum(kept + left for kept, left in after.values()) == 3
    assert_flags_are_what_the_aggregates_left_out()


def test_a_run_overlapping_another_counts_each_tap_once(store, monkeypatch):
    ids = _split_across_runs()
    real = ratings.mark_bursts
    overlapped: list[list[str]] = []

    def another_run_meanwhile(rating_ids: list[str]) -> None:
        if not overlapped:  # the first flag update: a second run does all of its work now
            overlapped.append(rating_ids)
            aggregate(utc("2026-11-20T17:15:00"))
        real(rating_ids)

    monkeypatch.setattr(ratings, "mark_bursts", another_run_meanwhile)
    aggregate(utc("2026-11-20T17:15:00"))
    monkeypatch.setattr(ratings, "mark_bursts", real)

    assert overlapped[0]
    assert flags(*ids) == [False, True, True]
    assert hour_buckets() == {
        "2026-11-20T11:00:00-05:00": (1, 1),
        "2026-11-20T12:00:00-05:00": (0, 1),
    }
    assert_flags_are_what_the_aggregates_left_out()


def test_a_slow_runs_view_from_before_the_burst_never_comes_back(store, monkeypatch):
    written: list[tuple[Any, ...]] = []
    real: Callable[..., list[bool]] = aggregates.put_partials

    def recorded(*args: Any) -> list[bool]:
        written.append(args)
        return real(*args)

    monkeypatch.setattr(aggregates, "put_partials", recorded)
    ids = _split_across_runs()  # `written`: the partials of the first two taps, unflagged
    monkeypatch.setattr(aggregates, "put_partials", real)
    aggregate(utc("2026-11-20T17:15:00"))
    after = hour_buckets()

    # A run that read before the third tap writes its partials again.
    replayed = [done for args in written for done in real(*args)]

    assert replayed
    assert not any(replayed)
    assert hour_buckets() == after
    assert flags(*ids) == [False, True, True]
    assert_flags_are_what_the_aggregates_left_out()


def test_repeat_presses_of_different_kiosks_are_no_burst(store):
    start_at("2026-11-20T17:00:00")
    ids = [
        tap("2026-11-20T17:20:00", kiosk="k-1"),
        tap("2026-11-20T17:20:05", kiosk="k-2"),
        tap("2026-11-20T17:20:10", kiosk="k-3"),
        tap("2026-11-20T17:20:15", kiosk="k-1"),
    ]

    aggregate(NOW)

    assert flags(*ids) == [False, False, False, False]
    assert hour_buckets() == {"2026-11-20T12:00:00-05:00": (4, 0)}


def test_marking_a_batch_with_a_rating_not_stored_marks_the_others_and_creates_nothing(store):
    ids = [tap("2026-11-20T17:20:00"), tap("2026-11-20T17:30:00")]
    missing = "00000000-0000-4000-8000-000000000000"

    ratings.mark_bursts([ids[0], missing, ids[1]])  # the transaction is cancelled: one by one

    assert flags(*ids) == [True, True]
    assert ratings.get_rating(missing) is None
