"""Signed webhooks out: a store's endpoints (create, list with their failures, rotate,
delete), an event queued as one delivery per endpoint that wants it, and the job that sends
what is due, signed, retrying with backoff until RETRY_WINDOW after the event.

Locally (notify_backend "outbox") a delivery is appended to the notifications log (topic
"webhook") instead of sent; signing, retries and failures take the same path either way.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from uuid import uuid4

from ..config import settings
from ..domain.webhooks import (
    MAX_WEBHOOKS_PER_STORE,
    SIGNATURE_HEADER,
    Delivery,
    NewWebhook,
    Webhook,
    WebhookEvent,
    gives_up,
    new_secret,
    retry_wait_s,
    signature,
)
from ..errors import Conflict, NotFound
from ..notify.topics import publish
from ..observability import logger
from ..storage import webhooks as stored
from ..storage.dynamodb import utc_iso

SEND_TIMEOUT_S = 5.0
# What a send answers: None when delivered, else the status or error that failed it.
Send = Callable[[str, bytes, dict[str, str]], str | None]


def create_webhook(store_id: str, request: NewWebhook, now: datetime) -> dict[str, Any]:
    webhook = Webhook(
        store_id=store_id,
        webhook_id=f"wh-{uuid4().hex[:12]}",
        url=request.url,
        events=request.events,
        secret=new_secret(),
        created_at=utc_iso(now, "seconds"),
    )
    if not stored.put_webhook(webhook, at_most=MAX_WEBHOOKS_PER_STORE):
        raise Conflict(f"a store has at most {MAX_WEBHOOKS_PER_STORE} webhooks")
    return {**_view(webhook), "secret": webhook.secret}


def list_webhooks(store_id: str) -> list[dict[str, Any]]:
    return [
        {**_view(w), "failures": stored.recent_failures(store_id, w.webhook_id)}
        for w in stored.store_webhooks(store_id)
    ]


def rotate_secret(store_id: str, webhook_id: str) -> dict[str, Any]:
    """A new secret, valid at once; the old one is not accepted after (no grace period)."""
    secret = new_secret()
    if not stored.replace_secret(store_id, webhook_id, secret):
        raise NotFound(f"webhook {webhook_id} does not exist")
    return {"webhook_id": webhook_id, "secret": secret}


def delete_webhook(store_id: str, webhook_id: str) -> None:
    if not stored.delete_webhook(store_id, webhook_id):
        raise NotFound(f"webhook {webhook_id} does not exist")


def _view(webhook: Webhook) -> dict[str, Any]:
    return webhook.model_dump(include={"webhook_id", "url", "events", "created_at"})


def queue_event(
    store_id: str, event: WebhookEvent, data: dict[str, Any], event_id: str, now: datetime
) -> int:
    """Queue one delivery of the event to each of the store's endpoints that want it;
    returns how many. `event_id` makes the delivery ids, so queueing an event again (a
    retried job) queues nothing new. `data` holds no raw customer text (`event_text`)."""
    queued = 0
    for webhook in stored.store_webhooks(store_id):
        if event not in webhook.events:
            continue
        delivery_id = f"{event_id}.{webhook.webhook_id}"
        body = {
            "id": delivery_id,
            "event": event,
            "store_id": store_id,
            "occurred_at": utc_iso(now, "seconds"),
            "data": data,
        }
        stored.add_delivery(
            Delivery(
                delivery_id=delivery_id,
                store_id=store_id,
                webhook_id=webhook.webhook_id,
                body=json.dumps(body, ensure_ascii=False, separators=(",", ":")),
                event_at=utc_iso(now, "seconds"),
                next_attempt_at=utc_iso(now, "seconds"),
            )
        )
        queued += 1
    return queued


def send_https(url: str, body: bytes, headers: dict[str, str]) -> str | None:
    """POST `body` to `url`; None when the receiver answers 2xx."""
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=SEND_TIMEOUT_S) as answer:  # noqa: S310
            status = int(answer.status)
    except urllib.error.HTTPError as error:
        return f"HTTP {error.code}"
    except (OSError, ValueError) as error:  # timeouts, refused connections, bad URLs
        return type(error).__name__
    return None if 200 <= status < 300 else f"HTTP {status}"


def send_to_outbox(url: str, body: bytes, headers: dict[str, str]) -> str | None:
    publish("webhook", "", body.decode(), {"webhook": url, **headers})
    return None


def default_send() -> Send:
    return send_to_outbox if settings().notify_backend == "outbox" else send_https


def deliver_due(now: datetime, send: Send | None = None) -> dict[str, int]:
    """Send every delivery due at `now`: each attempt claimed before it goes out."""
    send = send or default_send()
    counts = {"delivered": 0, "retried": 0, "given_up": 0}
    for delivery in stored.due_deliveries(now):
        if not stored.claim_attempt(delivery):
            continue  # another run has this attempt
        attempt = delivery.attempt + 1
        webhook = stored.get_webhook(delivery.store_id, delivery.webhook_id)
        if webhook is None:  # deleted since the event
            stored.finish_delivery(delivery.delivery_id)
            continue
        body = delivery.body.encode()
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: signature(webhook.secret, body, now),
        }
        failure = send(webhook.url, body, headers)
        if failure is None:
            stored.finish_delivery(delivery.delivery_id)
            counts["delivered"] += 1
            continue
        next_at = now + timedelta(seconds=retry_wait_s(attempt))
        final = gives_up(datetime.fromisoformat(delivery.event_at), next_at)
        stored.add_failure(delivery, attempt, now, failure, final)
        logger.warning(
            "webhook delivery failed",
            extra={"webhook_id": webhook.webhook_id, "attempt": attempt, "outcome": failure},
        )
        if final:
            stored.finish_delivery(delivery.delivery_id)
            counts["given_up"] += 1
        else:
            stored.reschedule(delivery.delivery_id, next_at)
            counts["retried"] += 1
    return counts
