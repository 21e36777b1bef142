"""Aggregation end to end: ratings -> scheduled runs -> the satisfaction API, on moto and on
DynamoDB Local. Runs are retried, interrupted and replayed; the result never changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib.auth import issue_staff_token
from chalicelib.jobs.aggregate import aggregate, floor_slice, rebuild
from chalicelib.storage import aggregates, ratings, stores
from tests.conftest import bearer, make_store, now
from tests.integration.factories import NOW, put


def hours_of(store_id: str, granularity: str = "hour") -> dict[str, Any]:
    start, end = NOW - timedelta(days=30), NOW + timedelta(days=1)
    return {
        key: tally.model_dump()
        for key, tally in aggregates.bucket_tallies(store_id, granularity, start, end).items()
    }


def everything(store_id: str = "store-a") -> dict[str, Any]:
    return {g: hours_of(store_id, g) for g in ("hour", "day", "week")}


def test_ratings_land_in_the_store_local_hour_with_every_figure(api, store, staff_headers):
    tapped = datetime(2026, 11, 20, 17, 20, tzinfo=UTC)  # 12:20 in New York
    put(score=5, tapped_at=tapped, reasons=["staff"], source_id="k-front")
    put(
        score=2,
        tapped_at=tapped,
        reasons=["wait_time", "staff"],
        expectation="worse",
        source_id="k-front",
    )
    put(score=4, tapped_at=tapped, channel="sms", source_id="inv-1")
    aggregate(NOW)

    response = api.http.get(
        "/v1/stores/store-a/satisfaction?granularity=hour&from=2026-11-20T12:00&to=2026-11-20T14:00",
        headers=staff_headers,
    )

    assert response.status_code == 200
    body = response.json_body
    assert (body["store_id"], body["timezone"], body["granularity"]) == (
        "store-a",
        "America/New_York",
        "hour",
    )
    (bucket,) = body["buckets"]
    assert bucket == {
        "start": "2026-11-20T12:00:00-05:00",
        "responses": 3,
        "filtered": 0,
        "mean": 3.667,
        "distribution": {"1": 0, "2": 1, "3": 0, "4": 1, "5": 1},
        "csat": 0.6667,
        "nps": None,
        # 2 of 3 satisfied: Wilson's 95% interval, and too few answers to read alone.
        "csat_interval": [0.2077, 0.9385],
        "enough": False,
        "expectation": {"worse": 1, "as_expected": 0, "better": 0},
        "reasons": {"staff": 2, "wait_time": 1},
        "channels": {
            "kiosk": {
                "responses": 2,
                "mean": 3.5,
                "distribution": {"1": 0, "2": 1, "3": 0, "4": 0, "5": 1},
                "csat": 0.5,
                "nps": None,
            },
            "sms": {
                "responses": 1,
                "mean": 4.0,
                "distribution": {"1": 0, "2": 0, "3": 0, "4": 1, "5": 0},
                "csat": 1.0,
                "nps": None,
            },
            "link": {
                "responses": 0,
                "mean": None,
                "distribution": {"1": 0, "2": 0, "3": 0, "4": 0, "5": 0},
                "csat": None,
                "nps": None,
            },
        },
        # Per kiosk: an SMS conversation is no kiosk.
        "kiosks": {"k-front": {"responses": 2, "mean": 3.5}},
    }
    assert body["previous"] == []


def test_days_and_weeks_roll_up_in_the_store_time_zone(api, store, staff_headers):
    put(score=5, tapped_at=datetime(2026, 11, 19, 4, 30, tzinfo=UTC))  # 18th, 23:30 local
    put(score=3, tapped_at=datetime(2026, 11, 19, 5, 30, tzinfo=UTC))  # 19th, 00:30 local
    aggregate(NOW)

    days = api.http.get(
        "/v1/stores/store-a/satisfaction?granularity=day&from=2026-11-18&to=2026-11-19",
        headers=staff_headers,
    ).json_body["buckets"]
    weeks = api.http.get(
        "/v1/stores/store-a/satisfaction?granularity=week&from=2026-11-16&to=2026-11-22",
        headers=staff_headers,
    ).json_body["buckets"]

    assert [(d["start"], d["responses"]) for d in days] == [
        ("2026-11-18T00:00:00-05:00", 1),
        ("2026-11-19T00:00:00-05:00", 1),
    ]
    assert [(w["start"], w["responses"], w["mean"]) for w in weeks] == [
        ("2026-11-16T00:00:00-05:00", 2, 4.0)
    ]


def test_a_retried_run_and_a_replayed_batch_leave_counts_unchanged(store):
    for score in (1, 2, 3, 4, 5):
        put(score=score)
    aggregate(NOW)
    first = everything()

    aggregate(NOW)  # retried
    aggregate(NOW + timedelta(minutes=1))  # the next run, nothing new

    assert everything() == first
    assert first["hour"]["2026-11-20T13:00:00-05:00"]["responses"] == 5


def test_a_late_offline_batch_updates_the_hours_it_was_tapped(store):
    put(score=5)
    aggregate(NOW)
    days_ago = NOW - timedelta(days=3)
    late = put(score=1, tapped_at=days_ago, received_at=NOW + timedelta(minutes=20))

    aggregate(NOW + timedelta(minutes=25))

    old_hour = hours_of("store-a")["2026-11-17T13:00:00-05:00"]
    assert old_hour["responses"] == 1
    assert old_hour["distribution"] == {str(late.score): 1}
    assert hours_of("store-a")["2026-11-20T13:00:00-05:00"]["responses"] == 1


def test_a_run_killed_half_way_is_completed_by_the_next_exactly_once(store):
    for hour in range(5):
        put(score=1 + hour % 5, received_at=NOW - timedelta(hours=5 - hour))
    aggregate(NOW - timedelta(hours=6))  # sets the watermark before the backlog

    aggregate(NOW, stop_after_slices=30)  # killed after 30 of the 72 slices
    aggregate(NOW)
    aggregate(NOW)  # and retried once more
    incremental = everything()
    rebuild(NOW - timedelta(hours=6), NOW)

    assert everything() == incremental
    assert sum(t["responses"] for t in incremental["hour"].values()) == 5


def test_overlapping_runs_keep_the_fuller_view(store):
    rating = put(score=5)
    aggregate(NOW)
    arrival_slice = floor_slice(rating.received_at)
    fuller = hours_of("store-a")["2026-11-20T13:00:00-05:00"]

    from chalicelib.domain.aggregates import Tally

    stale = aggregates.put_partial(
        "store-a",
        "hour",
        datetime.fromisoformat("2026-11-20T13:00:00-05:00"),
        arrival_slice,
        Tally(),
        0,
    )

    assert stale is False
    assert hours_of("store-a")["2026-11-20T13:00:00-05:00"] == fuller


def test_repeat_presses_are_filtered_but_counted(store):
    kiosk = "k-child"
    for second in (0, 4, 8, 12, 16):
        put(score=1, source_id=kiosk, tapped_at=NOW - timedelta(minutes=30, seconds=-second))
    aggregate(NOW)

    bucket = hours_of("store-a")["2026-11-20T13:00:00-05:00"]

    assert (bucket["responses"], bucket["filtered"]) == (1, 4)


def test_the_previous_period_sits_beside_the_range(api, store, staff_headers):
    put(score=5, tapped_at=datetime(2026, 11, 19, 15, 0, tzinfo=UTC))  # the day before
    put(score=1, tapped_at=datetime(2026, 11, 20, 15, 0, tzinfo=UTC))
    aggregate(NOW)

    body = api.http.get(
        "/v1/stores/store-a/satisfaction?granularity=day&from=2026-11-20&to=2026-11-20",
        headers=staff_headers,
    ).json_body

    assert [b["mean"] for b in body["buckets"]] == [1.0]
    assert [(b["start"], b["mean"]) for b in body["previous"]] == [
        ("2026-11-19T00:00:00-05:00", 5.0)
    ]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("granularity=minute", "granularity"),
        ("from=2026-11-20&to=2026-11-19", "before"),
        ("granularity=hour&from=2026-01-01&to=2026-11-01", "at most"),
        ("from=yesterday", "from"),
    ],
)
def test_a_bad_query_gets_400(api, store, staff_headers, query, message):
    response = api.http.get(f"/v1/stores/store-a/satisfaction?{query}", headers=staff_headers)

    assert response.status_code == 400
    assert message in str(response.json_body["error"])


def test_staff_see_their_store_and_admins_see_groups(api, store):
    other = bearer(issue_staff_token("bob", "staff", ["store-b"], now()))
    admin = bearer(issue_staff_token("root", "admin", [], now()))

    forbidden = api.http.get("/v1/stores/store-a/satisfaction", headers=other)
    group_for_staff = api.http.get("/v1/satisfaction", headers=other)
    group = api.http.get("/v1/satisfaction?store_ids=store-a,store-b", headers=admin)

    assert forbidden.status_code == 403
    assert group_for_staff.status_code == 403
    assert [s["store_id"] for s in group.json_body["stores"]] == ["store-a", "store-b"]


def test_the_rebuild_equals_the_incremental_result(store):
    stores.put_store(make_store("store-c", timezone="Asia/Shanghai"))
    for index in range(12):
        put(
            store_id=("store-a", "store-c")[index % 2],
            score=1 + index % 5,
            tapped_at=NOW - timedelta(hours=index * 7),
            received_at=NOW - timedelta(hours=index % 3, minutes=5),
        )
    aggregate(NOW - timedelta(hours=4))
    aggregate(NOW - timedelta(hours=1))
    aggregate(NOW)
    incremental = {s: everything(s) for s in ("store-a", "store-c")}

    rebuild(NOW - timedelta(days=1), NOW)

    assert {s: everything(s) for s in ("store-a", "store-c")} == incremental


def test_a_bad_hour_against_a_good_week_alerts_the_store_once(store):
    from chalicelib.jobs.alerts import check_alerts
    from chalicelib.notify import topics

    topics.PUBLISHED.clear()
    for day in range(1, 7):
        for _ in range(12):
            put(
                score=5,
                tapped_at=NOW - timedelta(days=day),
                received_at=NOW - timedelta(minutes=90),
            )
    for minute in range(12):  # the last closed hour, 12:00-13:00 in New York
        put(score=1, tapped_at=NOW - timedelta(minutes=80 - minute), reasons=["wait_time"])
    run = aggregate(NOW)

    first = check_alerts(sorted(run.stores), NOW)
    again = check_alerts(sorted(run.stores), NOW + timedelta(minutes=5))

    assert first == ["store-a/hour/2026-11-20T12:00:00-05:00"]
    assert again == []
    (alert,) = topics.PUBLISHED
    assert alert["attributes"]["store_id"] == "store-a"
    assert "0%" in alert["message"]
    assert "wait_time (12)" in alert["message"]


def test_a_run_dying_between_two_partial_writes_is_repaired_by_the_next(store, monkeypatch):
    for minute in range(0, 50, 5):
        put(score=1 + minute % 5, tapped_at=NOW - timedelta(hours=minute % 7, minutes=minute))
    real_put = aggregates.put_partials

    def dies_after_three(arrival_slice: datetime, tallies: list[Any], seen: int) -> list[bool]:
        real_put(arrival_slice, tallies[:3], seen)
        raise SystemExit("the Lambda was killed")

    monkeypatch.setattr(aggregates, "put_partials", dies_after_three)
    with pytest.raises(SystemExit):
        aggregate(NOW)
    monkeypatch.setattr(aggregates, "put_partials", real_put)
    aggregate(NOW)
    incremental = everything()
    rebuild(NOW - timedelta(hours=2), NOW)

    assert everything() == incremental
    assert sum(t["responses"] for t in incremental["day"].values()) == 10


def _a_slice_of_three_stores_in_parts(monkeypatch: pytest.MonkeyPatch) -> datetime:
    """Two ratings of each of three stores in one final slice, the watermark at it, and a
    part of one store's ratings: the slice is done store by store. Returns its start."""
    from chalicelib.jobs import aggregate as job

    for store_id in ("store-b", "store-c"):
        stores.put_store(make_store(store_id))
    arrived = NOW - timedelta(minutes=10)
    for n, store_id in enumerate(("store-a", "store-b", "store-c") * 2):
        put(store_id=store_id, score=1 + n % 5, received_at=arrived + timedelta(seconds=n))
    arrival_slice = floor_slice(arrived)
    aggregates.advance_watermark(None, arrival_slice)
    monkeypatch.setattr(job, "PART_RATINGS", 2)  # one store's ratings a part
    return arrival_slice


def test_a_run_out_of_time_inside_a_large_slice_keeps_the_stores_it_did(store, monkeypatch):
    """A slice larger than a part is done store by store; a run past its budget stops
    between two stores, the watermark says how far, and the next run does only the rest."""
    from chalicelib.jobs import aggregate as job

    arrival_slice = _a_slice_of_three_stores_in_parts(monkeypatch)
    elapsed = [0.0]
    real_put = aggregates.put_partials

    def slow_put(*args: Any) -> list[bool]:
        elapsed[0] += 1.0  # each part's writes take a second
        return real_put(*args)

    monkeypatch.setattr(aggregates, "put_partials", slow_put)
    first = aggregate(NOW, budget_s=1.5, clock=lambda: elapsed[0])

    assert first.out_of_time
    assert aggregates.watermark_position() == aggregates.Position(arrival_slice, "store-b")
    counted = {s: sum(t["responses"] for t in hours_of(s).values()) for s in ("store-a", "store-b")}
    assert counted == {"store-a": 2, "store-b": 2}
    assert hours_of("store-c") == {}

    second = aggregate(NOW)

    assert second.stores == {"store-c"}
    assert aggregates.watermark_position() == aggregates.Position(arrival_slice + job.SLICE)
    incremental = {s: everything(s) for s in ("store-a", "store-b", "store-c")}
    assert all(sum(t["responses"] for t in v["day"].values()) == 2 for v in incremental.values())
    rebuild(arrival_slice, NOW)
    assert {s: everything(s) for s in ("store-a", "store-b", "store-c")} == incremental


def test_a_large_final_slice_done_over_several_runs_is_read_once(store, monkeypatch):
    """A warm container keeps the last large final slice it read: the runs that finish it
    in parts do not read its arrivals again, and the result is the rebuild's."""
    from chalicelib.jobs import aggregate as job

    arrival_slice = _a_slice_of_three_stores_in_parts(monkeypatch)
    reads: list[datetime] = []
    real_arrivals = ratings.arrivals

    def counted_arrivals(start: datetime, end: datetime) -> list[Any]:
        reads.append(start)
        return real_arrivals(start, end)

    monkeypatch.setattr(ratings, "arrivals", counted_arrivals)
    runs = 0
    while aggregates.watermark_position() != aggregates.Position(arrival_slice + job.SLICE):
        aggregate(NOW, stop_after_slices=1, budget_s=0.0)  # one part a run
        runs += 1

    assert runs == 3
    assert reads.count(arrival_slice) == 1
    incremental = {s: everything(s) for s in ("store-a", "store-b", "store-c")}
    assert all(sum(t["responses"] for t in v["day"].values()) == 2 for v in incremental.values())
    rebuild(arrival_slice, NOW)
    assert {s: everything(s) for s in ("store-a", "store-b", "store-c")} == incremental


def test_a_run_reusing_a_kept_slice_starts_no_read_it_has_no_time_for(store, monkeypatch):
    """The kept slice carries its read's time: a run that reuses it does not start reading
    the next slice near its budget's end (a 1,000,000-arrival hour's run took 28.6 s so)."""
    from chalicelib.jobs import aggregate as job

    arrival_slice = _a_slice_of_three_stores_in_parts(monkeypatch)
    put(store_id="store-a", score=5, received_at=arrival_slice + job.SLICE + timedelta(seconds=1))
    elapsed = [0.0]
    reads: list[datetime] = []
    real_arrivals, real_put = ratings.arrivals, aggregates.put_partials

    def slow_arrivals(start: datetime, end: datetime) -> list[Any]:
        reads.append(start)
        elapsed[0] += 5.0  # a chain's slice takes seconds to read
        return real_arrivals(start, end)

    def slow_put(*args: Any) -> list[bool]:
        elapsed[0] += 1.0
        return real_put(*args)

    monkeypatch.setattr(ratings, "arrivals", slow_arrivals)
    monkeypatch.setattr(aggregates, "put_partials", slow_put)
    first = aggregate(NOW, budget_s=6.5, clock=lambda: elapsed[0])
    second = aggregate(NOW, budget_s=3.0, clock=lambda: elapsed[0])

    assert first.out_of_time
    assert second.out_of_time
    assert second.stores == {"store-c"}
    assert reads == [arrival_slice]  # the copy served the second run; no read was started
    assert aggregates.watermark_position() == aggregates.Position(arrival_slice + job.SLICE)
