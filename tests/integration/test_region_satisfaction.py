"""The region view of satisfaction (GET /v1/satisfaction?region=): the total summed from the
stores' counts, bucket by local wall-clock hour, stores on another scale listed but left out
of it, and who may ask. On moto and on DynamoDB Local."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib.auth import Role, issue_staff_token
from chalicelib.domain.survey import DEFAULT_SURVEY, Scale, Survey
from chalicelib.jobs.aggregate import aggregate
from chalicelib.storage import aggregates, stores
from tests.conftest import bearer, make_store, now
from tests.integration.factories import put

pytestmark = pytest.mark.usefixtures("storage")

NY, LA = "America/New_York", "America/Los_Angeles"
NOON_NY = datetime(2026, 11, 20, 17, 20, tzinfo=UTC)  # 12:20 in New York, 09:20 in Los Angeles
NOON_LA = datetime(2026, 11, 20, 20, 20, tzinfo=UTC)  # 12:20 in Los Angeles
HOURS = "granularity=hour&from=2026-11-20T09:00&to=2026-11-20T13:00"  # in each store's zone
ZERO_TO_TEN = DEFAULT_SURVEY.model_copy(
    update={"survey_id": "nps-0-10", "scale": Scale(kind="nps", min=0, max=10)}
)


def region_store(store_id: str, zone: str = NY, survey: Survey = DEFAULT_SURVEY) -> None:
    stores.put_store(make_store(store_id, timezone=zone, survey=survey, region="west"))


def seed(store_id: str, scores: list[int], tapped_at: datetime = NOON_NY, **extra: Any) -> None:
    """Kiosk ratings of `store_id`, each from its own kiosk (no repeat presses)."""
    for score in scores:
        arrived = tapped_at + timedelta(minutes=1)
        put(store_id, score, tapped_at=tapped_at, received_at=arrived, **extra)


def count() -> None:
    """One aggregation run over every rating seeded (the latest arrives at 20:21 UTC)."""
    aggregates.advance_watermark(None, datetime(2026, 11, 20, 17, tzinfo=UTC))
    aggregate(datetime(2026, 11, 20, 20, 30, tzinfo=UTC))


def ask(api: Any, query: str, role: Role = "manager", regions: tuple[str, ...] = ("west",)) -> Any:
    token = issue_staff_token("mia", role, [], now(), regions=regions)
    return api.http.get(f"/v1/satisfaction?{query}", headers=bearer(token))


def region_view(api: Any) -> dict[str, Any]:
    response = ask(api, f"region=west&{HOURS}")
    assert response.status_code == 200
    body: dict[str, Any] = response.json_body
    return body


def test_the_total_is_summed_from_the_counts_not_averaged_from_the_means(api):
    region_store("store-1")
    region_store("store-2")
    seed("store-1", [5] * 10, reasons=["staff"])
    seed("store-2", [1, 1], reasons=["staff", "queue"], expectation="worse")
    count()

    view = region_view(api)

    (total,) = view["total"]["buckets"]
    assert total["start"] == "2026-11-20T12:00:00-05:00"
    # 12 answers summing to 10 * 5 + 2 * 1 = 52: a mean of 13 / 3, where the mean of the
    # stores' means would be (5 + 1) / 2 = 3.
    assert total["responses"] == 12
    assert total["mean"] == round(52 / 12, 3) == 4.333
    assert total["distribution"] == {"1": 2, "2": 0, "3": 0, "4": 0, "5": 10}
    assert total["csat"] == round(10 / 12, 4)
    assert total["reasons"] == {"queue": 2, "staff": 12}
    assert total["expectation"] == {"worse": 2, "as_expected": 0, "better": 0}
    assert total["channels"]["kiosk"]["responses"] == 12
    assert sum(kiosk["responses"] for kiosk in total["kiosks"].values()) == 12
    means = {s["store_id"]: [b["mean"] for b in s["buckets"]] for s in view["stores"]}
    assert means == {"store-1": [5.0], "store-2": [1.0]}


def test_stores_in_different_zones_add_up_by_their_local_hour(api):
    region_store("store-ny", NY)
    region_store("store-la", LA)
    seed("store-ny", [5, 4])  # 12:20 in New York
    # 12:20 in Los Angeles: three hours later, yet the same local hour.
    seed("store-la", [2], tapped_at=NOON_LA)
    seed("store-la", [3], tapped_at=NOON_NY)  # 09:20 in Los Angeles: not New York's noon
    count()

    view = region_view(api)

    by_hour = {b["start"][:19]: b for b in view["total"]["buckets"]}
    assert {hour: b["responses"] for hour, b in by_hour.items()} == {
        "2026-11-20T09:00:00": 1,
        "2026-11-20T12:00:00": 3,
    }
    assert by_hour["2026-11-20T12:00:00"]["distribution"] == {
        "1": 0,
        "2": 1,
        "3": 0,
        "4": 1,
        "5": 1,
    }
    starts = {s["store_id"]: [b["start"] for b in s["buckets"]] for s in view["stores"]}
    assert starts == {
        "store-la": ["2026-11-20T09:00:00-08:00", "2026-11-20T12:00:00-08:00"],
        "store-ny": ["2026-11-20T12:00:00-05:00"],
    }


@pytest.mark.parametrize("odd_store", ["store-0", "store-z"])  # first by id, and last
def test_a_store_on_another_scale_is_listed_but_left_out_of_the_total(api, odd_store):
    region_store(odd_store, survey=ZERO_TO_TEN)
    region_store("store-b")
    region_store("store-c")
    seed(odd_store, [10, 0])
    seed("store-b", [5, 4])
    seed("store-c", [2])
    count()

    view = region_view(api)

    (total,) = view["total"]["buckets"]
    assert total["responses"] == 3
    # The total is read on the common 1-5 scale even when the odd store comes first.
    assert total["distribution"] == {"1": 0, "2": 1, "3": 0, "4": 1, "5": 1}
    assert total["csat"] == round(2 / 3, 4)
    assert total["nps"] is None
    listed = {s["store_id"]: s["buckets"] for s in view["stores"]}
    assert sorted(listed) == sorted([odd_store, "store-b", "store-c"])
    (odd,) = listed[odd_store]
    assert (odd["responses"], odd["nps"], len(odd["distribution"])) == (2, 0.0, 11)


def test_region_and_store_ids_together_are_refused(api):
    region_store("store-1")

    response = ask(api, f"region=west&store_ids=store-1&{HOURS}", role="admin", regions=())

    assert response.status_code == 400


@pytest.mark.parametrize(
    ("role", "regions"), [("manager", ("east",)), ("staff", ())], ids=["other-region", "staff"]
)
def test_only_the_regions_manager_or_an_admin_may_see_it(api, role, regions):
    region_store("store-1")

    response = ask(api, f"region=west&{HOURS}", role=role, regions=regions)

    assert response.status_code == 403


def test_a_region_without_stores_is_empty_for_an_admin(api):
    region_store("store-1")

    response = ask(api, f"region=north&{HOURS}", role="admin", regions=())

    assert response.status_code == 200
    assert response.json_body == {"total": {"buckets": []}, "stores": []}
