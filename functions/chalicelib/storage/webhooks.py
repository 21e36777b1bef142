"""A store's webhook endpoints, their pending deliveries and their recent failures.

Key formats
  endpoint: pk = STORE#<store_id>, sk = WEBHOOK#<webhook_id>   (url, events, secret)
  count:    pk = STORE#<store_id>, sk = WEBHOOK_COUNT           (endpoints: how many exist)
  failure:  pk = STORE#<store_id>, sk = WEBHOOK_FAILURE#<webhook_id>#<at UTC>#<attempt>
            (status or error; expires_at: TTL, FAILURES_KEPT after it)
  pending:  pk = WEBHOOK_PENDING,  sk = DELIVERY#<delivery_id>   (body, attempt,
            next_attempt_at; deleted once delivered or given up)

Pending deliveries share one partition: the job reads it whole every run; it holds only
what has not been delivered yet, so it stays small. An attempt is claimed by a conditional
update of `attempt` before it is sent, so two runs never send the same attempt twice.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from ..domain.webhooks import Delivery, Webhook
from .dynamodb import (
    client,
    from_item,
    put_if,
    query_all,
    table_name,
    to_item,
    transact,
    unavailable_on_failure,
    update_if,
    utc_iso,
)

FAILURES_KEPT = timedelta(days=7)
_PENDING = "WEBHOOK_PENDING"


def _endpoint_key(store_id: str, webhook_id: str) -> dict[str, str]:
    return {"pk": f"STORE#{store_id}", "sk": f"WEBHOOK#{webhook_id}"}


def _pending_key(delivery_id: str) -> dict[str, str]:
    return {"pk": _PENDING, "sk": f"DELIVERY#{delivery_id}"}


def _count_key(store_id: str) -> dict[str, str]:
    return {"pk": f"STORE#{store_id}", "sk": "WEBHOOK_COUNT"}


def _count_change(store_id: str, change: int, below: int | None = None) -> dict[str, Any]:
    update: dict[str, Any] = {
        "TableName": table_name(),
        "Key": to_item(_count_key(store_id)),
        "UpdateExpression": "ADD endpoints :change",
        "ExpressionAttributeValues": to_item({":change": change}),
    }
    if below is not None:
        update["ConditionExpression"] = "attribute_not_exists(endpoints) OR endpoints < :below"
        update["ExpressionAttributeValues"] |= to_item({":below": below})
    return {"Update": update}


def put_webhook(webhook: Webhook, at_most: int) -> bool:
    """Store a new endpoint unless the store has `at_most` already (or one of its id
    exists): False then. The count and the endpoint are written in one transaction, so two
    creations at once cannot both pass a count read before either was written."""
    item = {**_endpoint_key(webhook.store_id, webhook.webhook_id), "type": "webhook"}
    item |= webhook.model_dump()
    put = {
        "TableName": table_name(),
        "Item": to_item(item),
        "ConditionExpression": "attribute_not_exists(pk)",
    }
    return transact([_count_change(webhook.store_id, 1, below=at_most), {"Put": put}])


def store_webhooks(store_id: str) -> list[Webhook]:
    """The store's endpoints, oldest first."""
    items = query_all(
        KeyConditionExpression="pk = :pk AND begins_with(sk, :webhook)",
        ExpressionAttributeValues=to_item({":pk": f"STORE#{store_id}", ":webhook": "WEBHOOK#"}),
        ConsistentRead=True,
    )
    found = (Webhook.model_validate(item) for item in items)
    return sorted(found, key=lambda w: (w.created_at, w.webhook_id))


def get_webhook(store_id: str, webhook_id: str) -> Webhook | None:
    with unavailable_on_failure():
        response = client().get_item(
            TableName=table_name(),
            Key=to_item(_endpoint_key(store_id, webhook_id)),
            ConsistentRead=True,
        )
    return Webhook.model_validate(from_item(response["Item"])) if "Item" in response else None


def replace_secret(store_id: str, webhook_id: str, secret: str) -> bool:
    """Give the endpoint a new secret; False if there is no such endpoint."""
    return update_if(
        {
            "TableName": table_name(),
            "Key": to_item(_endpoint_key(store_id, webhook_id)),
            "UpdateExpression": "SET secret = :secret",
            "ConditionExpression": "attribute_exists(pk)",
            "ExpressionAttributeValues": to_item({":secret": secret}),
        }
    )


def delete_webhook(store_id: str, webhook_id: str) -> bool:
    """Remove the endpoint (its pending deliveries are given up when next due); False if
    there is no such endpoint."""
    delete = {
        "TableName": table_name(),
        "Key": to_item(_endpoint_key(store_id, webhook_id)),
        "ConditionExpression": "attribute_exists(pk)",
    }
    return transact([{"Delete": delete}, _count_change(store_id, -1)])


def add_delivery(delivery: Delivery) -> None:
    """Queue a delivery; writing the same delivery_id again changes nothing."""
    item = {**_pending_key(delivery.delivery_id), "type": "webhook_delivery"}
    put_if(to_item(item | delivery.model_dump()), "attribute_not_exists(pk)")


def due_deliveries(now: datetime) -> list[Delivery]:
    items = query_all(
        KeyConditionExpression="pk = :pk",
        FilterExpression="next_attempt_at <= :now",
        ExpressionAttributeValues=to_item({":pk": _PENDING, ":now": utc_iso(now, "seconds")}),
        ConsistentRead=True,
    )
    return [Delivery.model_validate(item) for item in items]


def claim_attempt(delivery: Delivery) -> bool:
    """Take attempt `delivery.attempt + 1`; False if another run took it (or it is gone)."""
    return update_if(
        {
            "TableName": table_name(),
            "Key": to_item(_pending_key(delivery.delivery_id)),
            "UpdateExpression": "SET attempt = :next",
            "ConditionExpression": "attempt = :seen",
            "ExpressionAttributeValues": to_item(
                {":seen": delivery.attempt, ":next": delivery.attempt + 1}
            ),
        }
    )


def reschedule(delivery_id: str, next_at: datetime) -> None:
    with unavailable_on_failure():
        client().update_item(
            TableName=table_name(),
            Key=to_item(_pending_key(delivery_id)),
            UpdateExpression="SET next_attempt_at = :next",
            ExpressionAttributeValues=to_item({":next": utc_iso(next_at, "seconds")}),
        )


def finish_delivery(delivery_id: str) -> None:
    with unavailable_on_failure():
        client().delete_item(TableName=table_name(), Key=to_item(_pending_key(delivery_id)))


def add_failure(delivery: Delivery, attempt: int, at: datetime, outcome: str, final: bool) -> None:
    """Record one failed attempt of a delivery under its endpoint."""
    at_iso = utc_iso(at, "seconds")
    item: dict[str, Any] = {
        "pk": f"STORE#{delivery.store_id}",
        "sk": f"WEBHOOK_FAILURE#{delivery.webhook_id}#{at_iso}#{attempt:03d}",
        "type": "webhook_failure",
        "webhook_id": delivery.webhook_id,
        "delivery_id": delivery.delivery_id,
        "at": at_iso,
        "attempt": attempt,
        "outcome": outcome,
        "given_up": final,
        "expires_at": int((at + FAILURES_KEPT).timestamp()),
    }
    with unavailable_on_failure():
        client().put_item(TableName=table_name(), Item=to_item(item))


def recent_failures(store_id: str, webhook_id: str, limit: int = 20) -> list[dict[str, Any]]:
    """The endpoint's latest failures, newest first: at, attempt, outcome, given_up."""
    with unavailable_on_failure():
        response = client().query(
            TableName=table_name(),
            KeyConditionExpression="pk = :pk AND begins_with(sk, :failure)",
            ExpressionAttributeValues=to_item(
                {":pk": f"STORE#{store_id}", ":failure": f"WEBHOOK_FAILURE#{webhook_id}#"}
            ),
            ScanIndexForward=False,
            Limit=limit,
        )
    failures = [from_item(item) for item in response.get("Items", [])]
    return [
        {
            "at": f["at"],
            "attempt": int(f["attempt"]),
            "outcome": f["outcome"],
            "given_up": f["given_up"],
            "delivery_id": f["delivery_id"],
        }
        for f in failures
    ]
