"""The link survey end to end through the Chalice app (no token, by the store code): the
kiosk's ingest with `channel: link`, counted as the link channel in the figures, retries
counted once, and the abuse limits answering 429. On moto and on DynamoDB Local."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from chalicelib.config import settings
from chalicelib.jobs.aggregate import aggregate
from chalicelib.storage import aggregates, ratings
from tests.conftest import iso, kiosk_rating, now, rating_batch
from tests.integration.factories import stored_ratings

HEADERS = {"Content-Type": "application/json"}


def link_batch(*ratings_sent: dict[str, Any], device_id: str = "phone-0001") -> str:
    return json.dumps(rating_batch(*ratings_sent) | {"device_id": device_id})


def post_link(api: Any, body: str, store_code: str = "store-a") -> Any:
    return api.http.post(f"/v1/link/{store_code}/ratings", headers=HEADERS, body=body)


def test_the_survey_is_served_by_store_code_without_a_token(api, store):
    response = api.http.get("/v1/link/store-a/survey")

    assert response.status_code == 200
    assert response.json_body["store_name"] == store.name
    assert response.json_body["survey_id"] == store.survey.survey_id


def test_a_link_rating_is_stored_once_and_counted_as_the_link_channel(api, store, staff_headers):
    tapped = now()
    start = tapped.replace(minute=0, second=0, microsecond=0)  # the hour of the tap
    aggregates.advance_watermark(None, start - timedelta(hours=1))
    rating = kiosk_rating(score=2, tapped_at=iso(tapped))

    first = post_link(api, link_batch(rating))
    retry = post_link(api, link_batch(rating))

    assert first.json_body == {"results": [{"rating_id": rating["rating_id"], "status": "stored"}]}
    assert retry.json_body["results"][0]["status"] == "duplicate"
    saved = ratings.get_rating(rating["rating_id"])
    assert saved is not None
    assert (saved.channel, saved.store_id, saved.source_id) == (
        "link",
        "store-a",
        "link-phone-0001",
    )
    assert len(stored_ratings()) == 1

    aggregate(now() + timedelta(minutes=1))
    local = start.astimezone(ZoneInfo(store.timezone)).replace(tzinfo=None)
    period = f"from={local:%Y-%m-%dT%H:%M}&to={local + timedelta(hours=1):%Y-%m-%dT%H:%M}"
    response = api.http.get(
        f"/v1/stores/store-a/satisfaction?granularity=hour&{period}", headers=staff_headers
    )
    (bucket,) = response.json_body["buckets"]
    assert bucket["channels"]["link"]["responses"] == 1
    assert bucket["channels"]["link"]["distribution"]["2"] == 1
    assert bucket["channels"]["kiosk"]["responses"] == 0
    assert bucket["kiosks"] == {}  # a phone is not a kiosk


def test_too_many_requests_from_one_device_answer_429_with_retry_after(api, store, monkeypatch):
    monkeypatch.setenv("STOREPULSE_LINK_REQUESTS_PER_DEVICE", "2")
    settings.cache_clear()

    answers = [post_link(api, link_batch(kiosk_rating())) for _ in range(3)]
    other_phone = post_link(api, link_batch(kiosk_rating(), device_id="phone-0002"))
    settings.cache_clear()

    assert [a.status_code for a in answers] == [200, 200, 429]
    assert answers[2].json_body["error"]["code"] == "rate_limited"
    assert 1 <= int(answers[2].headers["Retry-After"]) <= 3600
    assert other_phone.status_code == 200
    assert len(stored_ratings()) == 3  # the refused request stored nothing


def test_the_store_limit_counts_every_device_together(api, store, monkeypatch):
    monkeypatch.setenv("STOREPULSE_LINK_REQUESTS_PER_STORE", "2")
    settings.cache_clear()

    codes = [
        post_link(api, link_batch(kiosk_rating(), device_id=f"phone-{uuid.uuid4().hex[:8]}"))
        for _ in range(3)
    ]
    settings.cache_clear()

    assert [c.status_code for c in codes] == [200, 200, 429]


@pytest.mark.parametrize(
    ("store_code", "body", "status"),
    [
        ("no-such-store", link_batch(kiosk_rating()), 404),
        ("Bad_Code!", link_batch(kiosk_rating()), 404),
        ("store-a", json.dumps(rating_batch(kiosk_rating())), 400),  # no device id
        ("store-a", link_batch(kiosk_rating(), device_id="x"), 400),
        ("store-a", link_batch(*[kiosk_rating() for _ in range(6)]), 400),
    ],
)
def test_bad_requests_answer_4xx_and_store_nothing(api, store, store_code, body, status):
    response = post_link(api, body, store_code)

    assert response.status_code == status
    assert "error" in response.json_body
    assert stored_ratings() == []
