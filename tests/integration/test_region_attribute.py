"""Callback notifications of a store with a region carry it as a message attribute: managers'
subscriptions filter on it (notify/subscriptions.py)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from chalicelib.domain.survey import Store
from chalicelib.jobs.aggregate import floor_hour
from chalicelib.notify import topics
from chalicelib.storage import aggregates, stores
from tests.conftest import kiosk_rating, now, rating_batch

pytestmark = pytest.mark.usefixtures("storage")


def run_scheduler() -> Any:
    from chalice.test import Client

    from app import app

    with Client(app) as client:
        event = client.events.generate_cw_event(
            source="aws.events", detail_type="Scheduled Event", detail={}, resources=[]
        )
        return client.lambda_.invoke("aggregate_satisfaction", event).payload


@pytest.mark.parametrize("region", ["west", None])
def test_a_new_task_names_the_stores_region(api, kiosk_headers, store: Store, region):
    stores.put_store(store.model_copy(update={"region": region}))
    aggregates.advance_watermark(None, floor_hour(now()))
    topics.PUBLISHED.clear()
    callback = {"phone": "+14155550123", "name": "Ana", "consent": True}
    rating = kiosk_rating(score=1, callback=callback)
    api.http.post("/v1/kiosk/ratings", headers=kiosk_headers, body=json.dumps(rating_batch(rating)))

    run_scheduler()

    (notification,) = [m for m in topics.PUBLISHED if m["topic"] == "callbacks"]
    expected = {"store_id": "store-a", "kind": "callback_task", "audience": "staff"}
    assert notification["attributes"] == expected | ({"region": region} if region else {})
