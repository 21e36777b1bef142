"""Signed webhooks out, delivered to a real HTTP receiver on loopback (http.server in a
thread): the signature checked from the raw bytes received, a 500 retried with backoff, a
receiver that always fails given up 24 h after the event and listed, rotation. The clock
is advanced by giving each run its `now`. On moto and on DynamoDB Local."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from chalicelib.auth import issue_staff_token
from chalicelib.domain.webhooks import MAX_WEBHOOKS_PER_STORE, NewWebhook, Webhook, event_text
from chalicelib.errors import Conflict, NotFound
from chalicelib.flows import webhooks as flow
from chalicelib.flows.webhooks import deliver_due, queue_event, send_https
from chalicelib.storage import webhooks as stored
from tests.conftest import bearer, now
from tests.integration.callers import unhappy

EVENT_AT = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)


class Receiver:
    """Answers each POST with the next of `statuses` (the last one from then on)."""

    def __init__(self, statuses: list[int]) -> None:
        self.statuses = statuses
        self.received: list[tuple[dict[str, str], bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append((dict(self.headers.items()), body))
                index = min(len(receiver.received), len(receiver.statuses)) - 1
                self.send_response(receiver.statuses[index])
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"


@pytest.fixture
def receiver(request: pytest.FixtureRequest) -> Iterator[Receiver]:
    made = Receiver(getattr(request, "param", [200]))
    thread = threading.Thread(target=made.server.serve_forever, daemon=True)
    thread.start()
    yield made
    made.server.shutdown()
    made.server.server_close()


def endpoint(store_id: str, url: str) -> Webhook:
    """An endpoint on the loopback receiver (plain http: the API accepts https only)."""
    webhook = Webhook(
        store_id=store_id,
        webhook_id="wh-1",
        url=url,
        events=["callback_task"],
        secret="whsec_one",
        created_at=EVENT_AT.isoformat(),
    )
    assert stored.put_webhook(webhook, at_most=MAX_WEBHOOKS_PER_STORE)
    return webhook


def verified(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """The receiver's check, written from the contract alone."""
    parts = dict(part.split("=", 1) for part in headers["Storepulse-Signature"].split(","))
    expected = hmac.new(
        secret.encode(), parts["t"].encode() + b"." + body, hashlib.sha256
    ).hexdigest()
    return hmac.compare_digest(parts["v1"], expected)


def test_an_event_is_delivered_signed_once(store, receiver):
    endpoint(store.store_id, receiver.url)
    data = {"task_id": "t-1", "comment": event_text("call me\nhttps://evil.example")}
    assert queue_event(store.store_id, "callback_task", data, "ev-1", EVENT_AT) == 1
    assert queue_event(store.store_id, "store_alert", {}, "ev-2", EVENT_AT) == 0  # not wanted
    assert deliver_due(EVENT_AT, send_https)["delivered"] == 1
    assert deliver_due(EVENT_AT + timedelta(hours=1), send_https)["delivered"] == 0
    [(headers, body)] = receiver.received
    assert verified("whsec_one", headers, body)
    assert not verified("whsec_other", headers, body)
    sent = json.loads(body)
    assert sent["id"] == "ev-1.wh-1"
    assert sent["event"] == "callback_task"
    assert "\n" not in sent["data"]["comment"]
    assert "evil[.]example" in sent["data"]["comment"]


@pytest.mark.parametrize("receiver", [[500, 200]], indirect=True)
def test_a_500_is_retried_after_its_backoff_and_delivered(store, receiver):
    endpoint(store.store_id, receiver.url)
    queue_event(store.store_id, "callback_task", {"task_id": "t-1"}, "ev-1", EVENT_AT)
    assert deliver_due(EVENT_AT, send_https) == {"delivered": 0, "retried": 1, "given_up": 0}
    assert deliver_due(EVENT_AT + timedelta(seconds=10), send_https)["retried"] == 0  # not due
    assert deliver_due(EVENT_AT + timedelta(seconds=31), send_https)["delivered"] == 1
    first, second = receiver.received
    assert first[1] == second[1]  # the same bytes and id: receivers deduplicate by it
    assert all(verified("whsec_one", headers, body) for headers, body in receiver.received)
    [failure] = flow.list_webhooks(store.store_id)[0]["failures"]
    assert failure["attempt"] == 1
    assert failure["outcome"] == "HTTP 500"
    assert not failure["given_up"]


@pytest.mark.parametrize("receiver", [[503]], indirect=True)
def test_a_receiver_that_always_fails_is_given_up_after_24_hours(store, receiver):
    endpoint(store.store_id, receiver.url)
    queue_event(store.store_id, "callback_task", {"task_id": "t-1"}, "ev-1", EVENT_AT)
    moment, runs = EVENT_AT, {"delivered": 0, "retried": 0, "given_up": 0}
    while moment <= EVENT_AT + timedelta(hours=26):
        for name, count in deliver_due(moment, send_https).items():
            runs[name] += count
        moment += timedelta(minutes=30)
    assert runs["delivered"] == 0
    assert runs["given_up"] == 1
    failures = flow.list_webhooks(store.store_id)[0]["failures"]
    assert len(receiver.received) == runs["retried"] + 1  # one send per attempt
    assert len(failures) == min(20, len(receiver.received))  # the latest 20, newest first
    assert failures[0]["attempt"] == len(receiver.received)
    assert failures[0]["given_up"]
    assert failures[0]["outcome"] == "HTTP 503"
    assert not any(f["given_up"] for f in failures[1:])
    last_at = datetime.fromisoformat(failures[0]["at"])
    assert EVENT_AT + timedelta(hours=22) < last_at <= EVENT_AT + timedelta(hours=24)


def test_rotation_signs_with_the_new_secret_only(store, receiver):
    endpoint(store.store_id, receiver.url)
    rotated = flow.rotate_secret(store.store_id, "wh-1")
    assert rotated["secret"].startswith("whsec_")
    assert rotated["secret"] != "whsec_one"
    queue_event(store.store_id, "callback_task", {"task_id": "t-1"}, "ev-1", EVENT_AT)
    deliver_due(EVENT_AT, send_https)
    [(headers, body)] = receiver.received
    assert verified(rotated["secret"], headers, body)
    assert not verified("whsec_one", headers, body)


def test_secrets_are_shown_once_and_endpoints_are_bounded(store):
    request = NewWebhook(url="https://hooks.example.com/a", events=["store_alert"])
    created = flow.create_webhook(store.store_id, request, EVENT_AT)
    assert created["secret"].startswith("whsec_")
    [listed] = flow.list_webhooks(store.store_id)
    assert "secret" not in listed
    assert listed["failures"] == []
    for _ in range(9):
        flow.create_webhook(store.store_id, request, EVENT_AT)
    with pytest.raises(Conflict):
        flow.create_webhook(store.store_id, request, EVENT_AT)
    flow.delete_webhook(store.store_id, created["webhook_id"])
    assert len(flow.list_webhooks(store.store_id)) == 9
    with pytest.raises(NotFound):
        flow.delete_webhook(store.store_id, created["webhook_id"])
    flow.create_webhook(store.store_id, request, EVENT_AT)  # the freed place
    with pytest.raises(Conflict):
        flow.create_webhook(store.store_id, request, EVENT_AT)


# moto checks a transaction's conditions and writes it without a lock between threads:
# the race is the engine's to refuse, so this runs on the real one.
@pytest.mark.parametrize("storage", ["dynamodb_local"], indirect=True)
def test_creations_at_once_stay_within_the_bound(store):
    request = NewWebhook(url="https://hooks.example.com/a", events=["store_alert"])

    def create(_: int) -> str:
        try:
            return flow.create_webhook(store.store_id, request, EVENT_AT)["webhook_id"]
        except Conflict:
            return "refused"

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(create, range(3 * MAX_WEBHOOKS_PER_STORE)))
    created = [a for a in answers if a != "refused"]
    assert len(created) == MAX_WEBHOOKS_PER_STORE
    listed = [w["webhook_id"] for w in flow.list_webhooks(store.store_id)]
    assert sorted(listed) == sorted(created)


def test_the_admin_routes(api, store, staff_headers):
    admin = bearer(issue_staff_token("root", "admin", [], now()))
    path = f"/v1/stores/{store.store_id}/webhooks"
    good = {"url": "https://hooks.example.com/in", "events": ["callback_task", "store_alert"]}
    created = api.http.post(path, headers=admin, body=json.dumps(good))
    assert created.status_code == 201
    webhook = created.json_body
    assert webhook["secret"].startswith("whsec_")
    for bad in ({**good, "url": "http://hooks.example.com/in"}, {**good, "events": ["x"]}):
        refused = api.http.post(path, headers=admin, body=json.dumps(bad))
        assert refused.status_code == 400
        assert refused.json_body["error"]["code"] == "bad_request"
    assert api.http.post(path, headers=staff_headers, body=json.dumps(good)).status_code == 403
    [listed] = api.http.get(path, headers=admin).json_body["webhooks"]
    assert listed["webhook_id"] == webhook["webhook_id"]
    assert "secret" not in listed
    one = f"{path}/{webhook['webhook_id']}"
    rotated = api.http.post(f"{one}/rotate", headers=admin).json_body
    assert rotated["secret"] not in (webhook["secret"], None)
    assert api.http.delete(one, headers=admin).status_code == 204
    assert api.http.delete(one, headers=admin).status_code == 404
    assert api.http.get(path, headers=admin).json_body == {"webhooks": []}


def test_a_callback_task_goes_out_to_the_stores_webhook(api, kiosk_headers, scheduler, receiver):
    store_id = "store-a"
    endpoint(store_id, receiver.url)
    unhappy(api, kiosk_headers, comment="slow\nhttps://evil.example/pay")
    scheduler()
    scheduler()  # a second run queues nothing new
    assert deliver_due(now() + timedelta(seconds=1), send_https)["delivered"] == 1
    [(headers, body)] = receiver.received
    assert verified("whsec_one", headers, body)
    sent = json.loads(body)
    assert sent["event"] == "callback_task"
    assert sent["data"]["kind"] == "callback_task"
    assert "\n" not in sent["data"]["message"]
    assert "evil.example" not in sent["data"]["message"]
