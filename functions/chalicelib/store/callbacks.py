"""Callback tasks, their contact, the one-open-task pointer and the phone-read audit.

Key formats
  task:     pk = TASK#<task_id>, sk = TASK
            gsi2pk = TASKS#<store_id>#<status>, gsi2sk = <due_at UTC>#<task_id>  (`tasks` index)
  contact:  pk = TASK#<task_id>, sk = CONTACT   (the phone; expires_at: phone retention)
  pointer:  pk = CUSTOMER#<store_id>#<customer key>, sk = OPEN_TASK   (one open task each)
  audit:    pk = TASK#<task_id>, sk = AUDIT#<at>#<id>   (every read of the full number)
Tasks hold no phone number, so they outlive it for the recovery figures.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

from ..config import settings
from ..domain.callbacks import CallbackTask, TaskStatus
from .dynamodb import (
    client,
    from_item,
    query_all,
    table_name,
    to_item,
    transact,
    unavailable_on_failure,
)


class Conflict(Exception):
    """The task changed since it was read (optimistic lock) or already exists."""


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def _task_key(task_id: str) -> dict[str, str]:
    return {"pk": f"TASK#{task_id}", "sk": "TASK"}


def _pointer_key(store_id: str, customer_key: str) -> dict[str, str]:
    return {"pk": f"CUSTOMER#{store_id}#{customer_key}", "sk": "OPEN_TASK"}


def _task_item(task: CallbackTask) -> dict[str, Any]:
    return to_item(
        _task_key(task.task_id)
        | {
            "type": "callback_task",
            "gsi2pk": f"TASKS#{task.store_id}#{task.status}",
            "gsi2sk": f"{_iso(task.due_at)}#{task.task_id}",
            "rating_ids": {r.rating_id for r in task.ratings},
        }
        | task.model_dump(mode="json", exclude_none=True)
    )


def _task(item: dict[str, Any]) -> CallbackTask:
    return CallbackTask.model_validate(from_item(item))


def get_task(task_id: str) -> CallbackTask | None:
    with unavailable_on_failure():
        response = client().get_item(
            TableName=table_name(), Key=to_item(_task_key(task_id)), ConsistentRead=True
        )
    return _task(response["Item"]) if "Item" in response else None


def open_task_of(store_id: str, customer_key: str) -> CallbackTask | None:
    """The customer's open (or claimed) task at this store, if any."""
    with unavailable_on_failure():
        response = client().get_item(
            TableName=table_name(),
            Key=to_item(_pointer_key(store_id, customer_key)),
            ConsistentRead=True,
        )
    if "Item" not in response:
        return None
    return get_task(str(from_item(response["Item"])["task_id"]))


def create_task(task: CallbackTask, phone: str, name: str | None, now: datetime) -> None:
    """Store a new task, its contact and the customer's open-task pointer, all or nothing.
    Raises Conflict if the task exists (a re-run) or the customer has an open task."""
    retention = timedelta(days=settings().phone_retention_days)
    contact = _task_key(task.task_id) | {
        "sk": "CONTACT",
        "type": "callback_contact",
        "phone": phone,
        "name": name,
        "expires_at": int((now + retention).timestamp()),
    }
    pointer = _pointer_key(task.store_id, task.customer_key) | {
        "type": "open_task",
        "task_id": task.task_id,
    }
    _transact(
        [
            {
                "Put": {
                    "TableName": table_name(),
                    "Item": _task_item(task),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
            {"Put": {"TableName": table_name(), "Item": to_item(contact)}},
            {
                "Put": {
                    "TableName": table_name(),
                    "Item": to_item(pointer),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
        ]
    )


def save_task(task: CallbackTask) -> None:
    """Store the task's next version (conditional on the version read); a resolved task
    frees the customer's pointer in the same transaction. Raises Conflict."""
    items: list[Any] = [
        {
            "Put": {
                "TableName": table_name(),
                "Item": _task_item(task),
                "ConditionExpression": "version = :previous",
                "ExpressionAttributeValues": to_item({":previous": task.version - 1}),
            }
        }
    ]
    if task.status == "resolved":
        items.append(
            {
                "Delete": {
                    "TableName": table_name(),
                    "Key": to_item(_pointer_key(task.store_id, task.customer_key)),
                }
            }
        )
    _transact(items)


def contact_phone(task_id: str, now: datetime) -> str | None:
    """The full number, while it is kept (None once its retention has passed)."""
    with unavailable_on_failure():
        response = client().get_item(
            TableName=table_name(),
            Key=to_item({"pk": f"TASK#{task_id}", "sk": "CONTACT"}),
            ConsistentRead=True,
        )
    item = from_item(response["Item"]) if "Item" in response else None
    if item is None or int(item["expires_at"]) <= now.timestamp():
        return None
    return str(item["phone"])


def audit_phone_read(task_id: str, subject: str, now: datetime) -> None:
    item = {
        "pk": f"TASK#{task_id}",
        "sk": f"AUDIT#{_iso(now)}#{uuid4().hex[:8]}",
        "type": "audit",
        "action": "phone_read",
        "subject": subject,
        "at": _iso(now),
    }
    with unavailable_on_failure():
        client().put_item(TableName=table_name(), Item=to_item(item))


def audit_trail(task_id: str) -> list[dict[str, Any]]:
    return query_all(
        KeyConditionExpression="pk = :pk AND begins_with(sk, :audit)",
        ExpressionAttributeValues=to_item({":pk": f"TASK#{task_id}", ":audit": "AUDIT#"}),
    )


def tasks_of(
    store_id: str, status: TaskStatus, due_from: datetime | None = None
) -> list[CallbackTask]:
    """A store's tasks in one status, soonest deadline first; with `due_from`, only those
    due then or later (a task is due after it is created, so older history is not read)."""
    condition, values = "gsi2pk = :pk", {":pk": f"TASKS#{store_id}#{status}"}
    if due_from is not None:
        condition, values = f"{condition} AND gsi2sk >= :due", values | {":due": _iso(due_from)}
    items = query_all(
        IndexName="tasks",
        KeyConditionExpression=condition,
        ExpressionAttributeValues=to_item(values),
    )
    return [CallbackTask.model_validate(item) for item in items]


def sms_callback_requests(now: datetime) -> list[dict[str, Any]]:
    """SMS customers waiting to be flagged; expired requests (the phone's retention has
    passed, TTL not yet swept) are left out."""
    items = query_all(
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues=to_item({":pk": "CALLBACK_REQUESTS"}),
        ConsistentRead=True,
    )
    return [item for item in items if int(item["expires_at"]) > now.timestamp()]


def forget_sms_request(sk: str) -> None:
    with unavailable_on_failure():
        client().delete_item(
            TableName=table_name(), Key=to_item({"pk": "CALLBACK_REQUESTS", "sk": sk})
        )


def kiosk_contact(rating_pk: str) -> dict[str, Any] | None:
    """The callback contact a kiosk rating still holds (None once a task has taken it)."""
    with unavailable_on_failure():
        response = client().get_item(
            TableName=table_name(),
            Key=to_item({"pk": rating_pk, "sk": "RATING"}),
            ConsistentRead=True,
        )
    item = from_item(response["Item"]) if "Item" in response else None
    return item if item and "contact" in item else None


def strip_kiosk_contact(rating_pk: str) -> None:
    """The task has the number now: the rating keeps none (and leaves the flagging queue)."""
    with unavailable_on_failure():
        client().update_item(
            TableName=table_name(),
            Key=to_item({"pk": rating_pk, "sk": "RATING"}),
            UpdateExpression="REMOVE contact, callback_requested",
        )


def _transact(items: list[Any]) -> None:
    if not transact(items):
        raise Conflict("a condition of the transaction failed")
