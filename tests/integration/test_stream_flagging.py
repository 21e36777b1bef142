"""Event-driven flagging: the table's stream, read the way Lambda's event source mapping
reads it (devtools/stream_poller.py, with the deployed filter), makes an unhappy tap with a
phone, or an SMS YES, a task and one notification without a scheduled run; redelivered
records and the scheduled run behind it make no second task and no second notification."""

from __future__ import annotations

import json
import os
from typing import Any

import pytest

from chalicelib.notify import topics
from chalicelib.storage import callback_requests, ratings
from chalicelib.storage.dynamodb import from_item
from devtools.stream_poller import StreamPoller, chalice_invoker
from tests.conftest import kiosk_rating, now, rating_batch
from tests.integration.callers import invited_sms_customer, tasks, unhappy

# moto has no DescribeStream: the real engine's stream, as the local stack reads it.
pytestmark = pytest.mark.parametrize("storage", ["dynamodb_local"], indirect=True)


def keys(batches: list[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """The keys of every record delivered, as storage reads them (`rating_id_of`...)."""
    return [from_item(record["dynamodb"]["Keys"]) for batch in batches for record in batch]


@pytest.fixture(autouse=True)
def quiet_outbox():
    topics.PUBLISHED.clear()


@pytest.fixture
def delivered(storage, store) -> Any:
    """The stream poller on this test's table; `delivered()` polls until the records written
    so far have reached the handler, and returns every batch it handed over."""
    batches: list[list[dict[str, Any]]] = []
    invoke = chalice_invoker()

    def recording(records: list[dict[str, Any]]) -> dict[str, Any] | None:
        batches.append(records)
        return invoke(records)

    poller = StreamPoller(
        os.environ["STOREPULSE_TABLE_NAME"],
        os.environ.get("STOREPULSE_DYNAMODB_ENDPOINT"),
        recording,
    )

    def poll(at_least: int = 1) -> list[list[dict[str, Any]]]:
        for _ in range(40):  # DynamoDB Local shows a write in its stream within a poll or two
            poller.poll()
            if sum(len(batch) for batch in batches) >= at_least:
                break
        return batches

    return poll


def test_an_unhappy_tap_is_a_task_and_one_notification_from_the_stream_alone(
    api,
    kiosk_headers,
    staff_headers,
    delivered,
    scheduler,
):
    happy = kiosk_rating(score=5)
    stored = api.http.post(
        "/v1/kiosk/ratings", headers=kiosk_headers, body=json.dumps(rating_batch(happy))
    )
    rating = unhappy(api, kiosk_headers, comment="Only one till open")

    batches = delivered()
    (task,) = tasks(api, staff_headers)

    # Only the rating with a callback request passes the filter: not the happy tap.
    assert stored.json_body["results"][0]["status"] == "stored"
    assert [ratings.rating_id_of(key) for key in keys(batches)] == [rating["rating_id"]]
    assert [r["rating_id"] for r in task["ratings"]] == [rating["rating_id"]]
    assert len(topics.PUBLISHED) == 1
    assert topics.PUBLISHED[0]["attributes"]["kind"] == "callback_task"
    assert ratings.get_rating(rating["rating_id"]).contact is None  # the task holds it now

    # Lambda delivers a batch again after a timeout or a crash; the schedule runs behind.
    invoke = chalice_invoker()
    for batch in batches:
        assert invoke(batch) == {"batchItemFailures": []}
    result = scheduler()

    assert result["tasks"] == 0
    assert [t["task_id"] for t in tasks(api, staff_headers)] == [task["task_id"]]
    assert len(topics.PUBLISHED) == 1


def test_an_sms_yes_is_a_task_from_the_stream(api, store, staff_headers, delivered):
    phone = invited_sms_customer(api, "+14155550188")
    for text in ("2", "Nobody at the till", "YES"):
        phone.send(text)

    batches = delivered()
    (task,) = tasks(api, staff_headers)

    (key,) = keys(batches)
    assert callback_requests.conversation_id_of(key)  # the request, not the rating
    assert task["ratings"][0]["channel"] == "sms"
    assert task["ratings"][0]["comment"] == "Nobody at the till"
    assert callback_requests.pending(now()) == []
    assert len(topics.PUBLISHED) == 1


def test_a_record_that_storage_fails_on_is_delivered_again_from_it(
    api, kiosk_headers, staff_headers, delivered, monkeypatch
):
    from chalicelib.errors import DependencyUnavailable
    from chalicelib.jobs import flagging

    rating = unhappy(api, kiosk_headers)
    real, calls = flagging._flag_kiosk_rating, []

    def failing_once(rating_id: str, at: Any) -> int:
        calls.append(rating_id)
        if len(calls) == 1:
            raise DependencyUnavailable("DynamoDB timed out", 1)
        return real(rating_id, at)

    monkeypatch.setattr(flagging, "_flag_kiosk_rating", failing_once)
    delivered(at_least=2)  # the first delivery fails; the poller delivers it again

    (task,) = tasks(api, staff_headers)
    assert calls == [rating["rating_id"], rating["rating_id"]]
    assert task["ratings"][0]["rating_id"] == rating["rating_id"]
    assert len(topics.PUBLISHED) == 1
