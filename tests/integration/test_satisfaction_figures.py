"""NPS on a 0-10 survey, and every figure per channel, through the satisfaction API
(issue 11, point 3). On moto and on DynamoDB Local."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.auth import issue_staff_token
from chalicelib.domain.survey import DEFAULT_SURVEY, Scale
from chalicelib.jobs.aggregate import aggregate
from chalicelib.storage import aggregates, stores
from tests.conftest import bearer, make_store, now
from tests.integration.factories import NOW, put

ZERO_TO_TEN = DEFAULT_SURVEY.model_copy(
    update={
        "survey_id": "nps-0-10",
        "scale": Scale(kind="nps", min=0, max=10),
        "callback_at_or_below": 6,
    }
)
TAPPED = datetime(2026, 11, 20, 17, 20, tzinfo=UTC)  # 12:20 in New York


def satisfaction_hour(api, store_id: str) -> dict:
    headers = bearer(issue_staff_token("alice", "staff", [store_id], now()))
    response = api.http.get(
        f"/v1/stores/{store_id}/satisfaction?granularity=hour"
        "&from=2026-11-20T12:00&to=2026-11-20T13:00",
        headers=headers,
    )
    assert response.status_code == 200
    (bucket,) = response.json_body["buckets"]
    return bucket


@pytest.fixture
def nps_store(storage):
    stores.put_store(make_store("store-n", survey=ZERO_TO_TEN))
    aggregates.advance_watermark(None, NOW.replace(minute=0) - timedelta(hours=1))
    return "store-n"


@pytest.mark.parametrize(
    ("scores", "nps"),
    [
        ([10] * 10, 100.0),  # all promoters
        ([0, 1, 2, 3, 4, 5, 6, 0, 1, 2], -100.0),  # all detractors
        ([7, 8] * 5, 0.0),  # all passives
        ([9, 10, 10, 7, 8, 3, 0, 9, 10, 6], 20.0),  # 5 promoters, 3 detractors of 10
        (list(range(11)), -45.5),  # one of each: 2 promoters, 7 detractors of 11
        ([9, 6, 6], -33.3),
    ],
)
def test_nps_is_the_share_of_promoters_minus_detractors(api, nps_store, scores, nps):
    for score in scores:
        put(nps_store, score, tapped_at=TAPPED)
    aggregate(NOW)

    bucket = satisfaction_hour(api, nps_store)

    assert bucket["nps"] == nps
    assert -100 <= bucket["nps"] <= 100
    assert bucket["responses"] == len(scores)
    assert bucket["distribution"] == {str(s): scores.count(s) for s in range(11)}
    assert bucket["csat"] == round(sum(s >= 9 for s in scores) / len(scores), 4)


def test_each_channel_has_every_figure_on_a_0_to_10_survey(api, nps_store):
    for score in (9, 10, 10, 7, 8, 3):
        put(nps_store, score, tapped_at=TAPPED)
    for index, score in enumerate((0, 9, 10, 6)):
        put(nps_store, score, tapped_at=TAPPED, channel="sms", source_id=f"conv-{index}")
    aggregate(NOW)

    bucket = satisfaction_hour(api, nps_store)

    assert bucket["nps"] == 20.0
    assert bucket["channels"] == {
        "kiosk": {
            "responses": 6,
            "mean": 7.833,
            "distribution": {str(s): (0, 0, 0, 1, 0, 0, 0, 1, 1, 1, 2)[s] for s in range(11)},
            "csat": 0.5,
            "nps": 33.3,  # 3 promoters, 1 detractor of 6
        },
        "sms": {
            "responses": 4,
            "mean": 6.25,
            "distribution": {str(s): (1, 0, 0, 0, 0, 0, 1, 0, 0, 1, 1)[s] for s in range(11)},
            "csat": 0.5,
            "nps": 0.0,  # 2 promoters, 2 detractors of 4
        },
        "link": {
            "responses": 0,
            "mean": None,
            "distribution": {str(s): 0 for s in range(11)},
            "csat": None,
            "nps": None,
        },
    }


def test_a_channel_without_answers_has_no_figures_and_a_5_point_scale_no_nps(api, store):
    aggregates.advance_watermark(None, NOW.replace(minute=0) - timedelta(hours=1))
    for score in (5, 4, 2):
        put("store-a", score, tapped_at=TAPPED)
    aggregate(NOW)

    bucket = satisfaction_hour(api, "store-a")

    assert bucket["nps"] is None
    assert bucket["channels"] == {
        "kiosk": {
            "responses": 3,
            "mean": 3.667,
            "distribution": {"1": 0, "2": 1, "3": 0, "4": 1, "5": 1},
            "csat": 0.6667,
            "nps": None,
        },
        "sms": {
            "responses": 0,
            "mean": None,
            "distribution": {"1": 0, "2": 0, "3": 0, "4": 0, "5": 0},
            "csat": None,
            "nps": None,
        },
        "link": {
            "responses": 0,
            "mean": None,
            "distribution": {"1": 0, "2": 0, "3": 0, "4": 0, "5": 0},
            "csat": None,
            "nps": None,
        },
    }
