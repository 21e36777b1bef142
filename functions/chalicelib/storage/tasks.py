"""Callback tasks, their contact, the one-open-task pointer and the task's history.

Key formats
  task:     pk = TASK#<task_id>, sk = TASK
            gsi2pk = TASKS#<store_id>#<status>, gsi2sk = <due_at UTC>#<task_id>  (`tasks` index)
  contact:  pk = TASK#<task_id>, sk = CONTACT   (the phone, the name, the ratings' comments
            and the staff's notes; expires_at: the task's contact_expires_at)
  pointer:  pk = CUSTOMER#<store_id>#<customer key>, sk = OPEN_TASK   (one open task each)
  event:    pk = TASK#<task_id>, sk = AUDIT#<at UTC, microseconds>#<event id>   (claimed,
            attempt, resolved, phone_read: appended, never changed; no free text)
  notice:   pk = TASK#<task_id>, sk = NOTICE#<kind>   (the claim on one notification of the
            task: written before it is published, so each kind goes out at most once;
            void_claims: the claims whose write got no answer, which can no longer land)
Tasks and events hold no phone number, name or free text, so they outlive the contact for
the recovery figures. TTL deletes lazily: every read checks the contact's expires_at itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from ..config import settings
from ..domain.phones import mask_phone
from ..domain.tasks import CallbackTask, TaskEvent, TaskRating, TaskStatus
from ..errors import Conflict
from .dynamodb import (
    answered,
    batch_get,
    client,
    error_code,
    from_item,
    query_all,
    raw_item,
    table_name,
    to_item,
    transact,
    unavailable_on_failure,
    utc_iso,
)

# What the task item never holds: the customer's contact and words live in the contact item.
_PRIVATE: dict[str, Any] = {"phone_masked": True, "name": True, "ratings": {"__all__": {"comment"}}}
_BATCH_KEYS = 100  # BatchGetItem's limit per request


@dataclass(frozen=True)
class TaskRecord:
    """A task with what only its call view shows: the full number and the history."""

    task: CallbackTask
    phone: str | None
    events: list[TaskEvent]


def _task_key(task_id: str) -> dict[str, str]:
    return {"pk": f"TASK#{task_id}", "sk": "TASK"}


def _contact_key(task_id: str) -> dict[str, str]:
    return {"pk": f"TASK#{task_id}", "sk": "CONTACT"}


def _pointer_key(store_id: str, customer_key: str) -> dict[str, str]:
    return {"pk": f"CUSTOMER#{store_id}#{customer_key}", "sk": "OPEN_TASK"}


def _event_key(task_id: str, event: TaskEvent) -> dict[str, str]:
    # Microseconds: the key orders the history, and one second may hold two events.
    at = utc_iso(event.at, "microseconds")
    return {"pk": f"TASK#{task_id}", "sk": f"AUDIT#{at}#{event.event_id}"}


def _notice_key(task_id: str, kind: str) -> dict[str, str]:
    return {"pk": f"TASK#{task_id}", "sk": f"NOTICE#{kind}"}


def _task_item(task: CallbackTask) -> dict[str, Any]:
    return to_item(
        _task_key(task.task_id)
        | {
            "type": "callback_task",
            "gsi2pk": f"TASKS#{task.store_id}#{task.status}",
            "gsi2sk": f"{utc_iso(task.due_at, 'seconds')}#{task.task_id}",
            "rating_ids": {r.rating_id for r in task.ratings},
        }
        | task.model_dump(mode="json", exclude_none=True, exclude=_PRIVATE)
    )


def _public_task(item: dict[str, Any]) -> CallbackTask:
    """The task item without the customer's words: tasks written before the contact item
    held them carried a name and comments that must not outlive the contact."""
    values = {k: v for k, v in item.items() if k not in ("phone_masked", "name")}
    values["ratings"] = [
        {k: v for k, v in rating.items() if k != "comment"} for rating in item["ratings"]
    ]
    task = CallbackTask.model_validate(values)
    if task.contact_expires_at is None:  # written before tasks recorded it
        retention = timedelta(days=settings().phone_retention_days)
        task = task.model_copy(update={"contact_expires_at": task.created_at + retention})
    return task


def _kept(contact: dict[str, Any] | None, now: datetime) -> dict[str, Any] | None:
    """The contact item while it is kept (TTL may leave an expired one for days)."""
    if contact is None or int(contact["expires_at"]) <= now.timestamp():
        return None
    return contact


def _with_contact(task: CallbackTask, contact: dict[str, Any] | None) -> CallbackTask:
    if contact is None:
        return task
    comments = {str(c["rating_id"]): str(c["text"]) for c in contact.get("comments", [])}
    phone = contact.get("phone")
    return task.model_copy(
        update={
            "phone_masked": mask_phone(str(phone)) if phone else None,
            "name": contact.get("name"),
            "ratings": [
                r.model_copy(update={"comment": comments.get(r.rating_id)}) for r in task.ratings
            ],
        }
    )


def _event(item: dict[str, Any], notes: dict[str, str]) -> TaskEvent:
    # Phone reads recorded before the history existed have no event id or detail.
    event_id = str(item.get("event_id") or str(item["sk"]).rsplit("#", 1)[-1])
    return TaskEvent(
        event_id=event_id,
        at=datetime.fromisoformat(str(item["at"])),
        by=str(item["subject"]),
        event=item["action"],
        detail=item.get("detail", {}),
        note=notes.get(event_id),
    )


def _notes(contact: dict[str, Any] | None) -> dict[str, str]:
    return {str(n["event_id"]): str(n["text"]) for n in (contact or {}).get("notes", [])}


def get_task(task_id: str, now: datetime) -> CallbackTask | None:
    """The task with its contact's name, masked number and comments while they are kept
    (one Query: the task and contact items sort next to each other)."""
    items = query_all(
        KeyConditionExpression="pk = :pk AND sk BETWEEN :contact AND :task",
        ExpressionAttributeValues=to_item(
            {":pk": f"TASK#{task_id}", ":contact": "CONTACT", ":task": "TASK"}
        ),
        ConsistentRead=True,
    )
    by_sk = {str(item["sk"]): item for item in items}
    if "TASK" not in by_sk:
        return None
    return _with_contact(_public_task(by_sk["TASK"]), _kept(by_sk.get("CONTACT"), now))


def read_task(task_id: str, now: datetime) -> TaskRecord | None:
    """The task, its full number while it is kept, and its recorded events oldest first:
    the whole partition in one Query."""
    items = query_all(
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues=to_item({":pk": f"TASK#{task_id}"}),
        ConsistentRead=True,
    )
    by_sk = {str(item["sk"]): item for item in items}
    if "TASK" not in by_sk:
        return None
    contact = _kept(by_sk.get("CONTACT"), now)
    notes = _notes(contact)
    return TaskRecord(
        task=_with_contact(_public_task(by_sk["TASK"]), contact),
        phone=str(contact["phone"]) if contact and contact.get("phone") else None,
        events=[
            _event(item, notes) for sk, item in sorted(by_sk.items()) if sk.startswith("AUDIT#")
        ],
    )


def open_task_of(store_id: str, customer_key: str, now: datetime) -> CallbackTask | None:
    """The customer's open (or claimed) task at this store, if any."""
    with unavailable_on_failure():
        response = client().get_item(
            TableName=table_name(),
            Key=to_item(_pointer_key(store_id, customer_key)),
            ConsistentRead=True,
        )
    if "Item" not in response:
        return None
    return get_task(str(from_item(response["Item"])["task_id"]), now)


def with_contacts(tasks: list[CallbackTask], now: datetime) -> list[CallbackTask]:
    """The tasks with their contacts' names, masked numbers and comments while kept (one
    BatchGetItem per 100 tasks)."""
    contacts: dict[str, dict[str, Any]] = {}
    for start in range(0, len(tasks), _BATCH_KEYS):
        keys = [to_item(_contact_key(t.task_id)) for t in tasks[start : start + _BATCH_KEYS]]
        for item in _batch_get(keys):
            contacts[str(item["pk"]).removeprefix("TASK#")] = item
    return [_with_contact(t, _kept(contacts.get(t.task_id), now)) for t in tasks]


def _batch_get(keys: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # Keys left unprocessed (throttling) are asked again after a backoff, not at once.
    return batch_get(keys)


def create_task(task: CallbackTask, phone: str) -> None:
    """Store a new task, its contact (kept until the task's contact_expires_at) and the
    customer's open-task pointer, all or nothing. Raises Conflict if the task exists (a
    re-run) or the customer has an open task."""
    if task.contact_expires_at is None:
        raise ValueError("a new task says how long its contact is kept")
    contact = _contact_key(task.task_id) | {
        "type": "callback_contact",
        "phone": phone,
        "name": task.name,
        "comments": [
            {"rating_id": r.rating_id, "text": r.comment} for r in task.ratings if r.comment
        ],
        "notes": [],
        "expires_at": int(task.contact_expires_at.timestamp()),
    }
    pointer = _pointer_key(task.store_id, task.customer_key) | {
        "type": "open_task",
        "task_id": task.task_id,
    }
    created = transact(
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
    if not created:
        raise Conflict("a condition of the transaction failed")


def save_task(
    task: CallbackTask,
    now: datetime,
    event: TaskEvent | None = None,
    comments: Iterable[TaskRating] = (),
) -> None:
    """Store the task's next version (conditional on the version read), in one transaction
    with the event it records (appended) and the free text that came with it (the event's
    note, new comments: into the contact, while it is kept). A resolved task frees the
    customer's pointer and brings its contact's expiry forward. Raises Conflict."""
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
    if event is not None:
        items.append({"Put": {"TableName": table_name(), "Item": _event_item(task, event)}})
    if task.status == "resolved":
        items.append(
            {
                "Delete": {
                    "TableName": table_name(),
                    "Key": to_item(_pointer_key(task.store_id, task.customer_key)),
                }
            }
        )
    notes = [{"event_id": event.event_id, "text": event.note}] if event and event.note else []
    texts = [{"rating_id": r.rating_id, "text": r.comment} for r in comments if r.comment]
    kept = task.contact_expires_at is not None and now < task.contact_expires_at
    if kept and (notes or texts or task.status == "resolved"):
        items.append(_contact_update(task, notes, texts))
    if not transact(items):  # the task moved on since it was read (optimistic lock)
        raise Conflict("the task changed meanwhile; reload it")


def _event_item(task: CallbackTask, event: TaskEvent) -> dict[str, Any]:
    return to_item(
        _event_key(task.task_id, event)
        | {
            "type": "task_event",
            "event_id": event.event_id,
            "action": event.event,
            "subject": event.by,
            "at": utc_iso(event.at, "microseconds"),
            "detail": {k: v for k, v in event.detail.items() if v is not None} or None,
        }
    )


def _contact_update(
    task: CallbackTask, notes: list[dict[str, str]], comments: list[dict[str, str]]
) -> dict[str, Any]:
    """Append notes and comments to the contact and set its expiry to the task's. Without
    a condition: had the contact gone, this makes one without a number that expires too."""
    expires_at = task.contact_expires_at or task.created_at
    assignments = ["expires_at = :expires_at"]
    values: dict[str, Any] = {":expires_at": int(expires_at.timestamp())}
    # if_not_exists: contacts written before these lists existed have neither.
    for name, entries in (("notes", notes), ("comments", comments)):
        if entries:
            assignments.append(f"{name} = list_append(if_not_exists({name}, :empty), :{name})")
            values |= {f":{name}": entries, ":empty": []}
    return {
        "Update": {
            "TableName": table_name(),
            "Key": to_item(_contact_key(task.task_id)),
            "UpdateExpression": "SET " + ", ".join(assignments),
            "ExpressionAttributeValues": to_item(values),
        }
    }


def add_event(task: CallbackTask, event: TaskEvent) -> None:
    """Append one event that changes nothing else (a read of the full number)."""
    with unavailable_on_failure():
        client().put_item(TableName=table_name(), Item=_event_item(task, event))


def tasks_of(
    store_id: str, status: TaskStatus, due_from: datetime | None = None
) -> list[CallbackTask]:
    """A store's tasks in one status, soonest deadline first; with `due_from`, only those
    due then or later (a task is due after it is created, so older history is not read)."""
    condition, values = "gsi2pk = :pk", {":pk": f"TASKS#{store_id}#{status}"}
    if due_from is not None:
        condition, values = (
            f"{condition} AND gsi2sk >= :due",
            values | {":due": utc_iso(due_from, "seconds")},
        )
    items = query_all(
        IndexName="tasks",
        KeyConditionExpression=condition,
        ExpressionAttributeValues=to_item(values),
    )
    return [_public_task(item) for item in items]


def claim_notification(task_id: str, kind: str, claim_id: str, now: datetime) -> bool:
    """Claim the task's one `kind` notification for the caller (`claim_id`, unique to it):
    True if the claim is the caller's. The claim is the record that the notification is
    sent; only a released one (never published) is claimed again, so a notification goes
    out at most once. Sent again while its answer is lost: only an answer tells what it
    did, a read cannot (the lost write may land after it: a stall delivers it after the
    client gave up). DependencyUnavailable if no answer came; the caller then makes the
    claim void (`void_notification_claim`), so that it can no longer land."""

    def claim() -> bool:
        try:
            with unavailable_on_failure():
                client().update_item(
                    TableName=table_name(),
                    Key=to_item(_notice_key(task_id, kind)),
                    UpdateExpression="SET #type = :type, kind = :kind, claim_id = :mine, "
                    "#state = :claimed, claimed_at = :at",
                    ConditionExpression="(attribute_not_exists(#state) OR #state = :released) "
                    "AND NOT contains(void_claims, :mine)",
                    ExpressionAttributeNames={"#type": "type", "#state": "state"},
                    ExpressionAttributeValues=to_item(
                        {
                            ":type": "task_notice",
                            ":kind": kind,
                            ":mine": claim_id,
                            ":claimed": "claimed",
                            ":released": "released",
                            ":at": utc_iso(now, "seconds"),
                        }
                    ),
                )
        except ClientError as error:
            if error_code(error) != "ConditionalCheckFailedException":
                raise
            return False
        return True

    if answered(claim):
        return True
    # The condition failed for an earlier claim, and also for our own when an earlier send
    # of it landed (its answer lost): the claim, settled now, tells.
    with unavailable_on_failure():
        response = client().get_item(
            TableName=table_name(), Key=to_item(_notice_key(task_id, kind)), ConsistentRead=True
        )
    held = from_item(response["Item"]) if "Item" in response else None
    return held is not None and held.get("claim_id") == claim_id and held["state"] != "released"


def confirm_notification(
    task_id: str, kind: str, claim_id: str, message_id: str, now: datetime
) -> None:
    """Mark the caller's claim as published (`message_id`: the topic's id for it)."""
    with _unless_not_ours():
        client().update_item(
            TableName=table_name(),
            Key=to_item(_notice_key(task_id, kind)),
            UpdateExpression="SET #state = :sent, sent_at = :at, message_id = :message",
            ConditionExpression="claim_id = :mine",
            ExpressionAttributeNames={"#state": "state"},
            ExpressionAttributeValues=to_item(
                {
                    ":mine": claim_id,
                    ":sent": "sent",
                    ":at": utc_iso(now, "seconds"),
                    ":message": message_id,
                }
            ),
        )


def void_notification_claim(task_id: str, kind: str, claim_id: str) -> None:
    """Make the caller's claim void: a write of it still on its way (no answer came) is
    refused when it arrives, so the claim stored stops changing. Safe to repeat."""
    with unavailable_on_failure():
        client().update_item(
            TableName=table_name(),
            Key=to_item(_notice_key(task_id, kind)),
            UpdateExpression="SET #type = :type, kind = :kind ADD void_claims :mine",
            ExpressionAttributeNames={"#type": "type"},
            ExpressionAttributeValues=to_item(
                {":type": "task_notice", ":kind": kind, ":mine": {claim_id}}
            ),
        )


def release_notification(task_id: str, kind: str, claim_id: str) -> None:
    """Take back the caller's claim that was not published (the publish failed, or the
    claim got no answer and was made void first), so that a later run sends it. Another
    caller's claim, or a published one, is left alone."""
    with _unless_not_ours():
        client().update_item(
            TableName=table_name(),
            Key=to_item(_notice_key(task_id, kind)),
            UpdateExpression="SET #state = :released",
            ConditionExpression="claim_id = :mine AND #state = :claimed",
            ExpressionAttributeNames={"#state": "state"},
            ExpressionAttributeValues=to_item(
                {":mine": claim_id, ":claimed": "claimed", ":released": "released"}
            ),
        )


@contextmanager
def _unless_not_ours() -> Iterator[None]:
    """A write conditional on the caller's claim; nothing to do when the claim is not (or no
    longer) the caller's, which is also what a retry of our own write whose first answer
    was lost finds."""
    try:
        with unavailable_on_failure():
            yield
    except ClientError as error:
        if error_code(error) != "ConditionalCheckFailedException":
            raise


def notification_claims(task_id: str) -> dict[str, str]:
    """The task's notification claims as stored: kind -> state (`claimed`, `sent`); released
    and void ones are no claim."""
    items = query_all(
        KeyConditionExpression="pk = :pk AND begins_with(sk, :notice)",
        ExpressionAttributeValues=to_item({":pk": f"TASK#{task_id}", ":notice": "NOTICE#"}),
        ConsistentRead=True,
    )
    return {
        str(item["kind"]): str(item["state"])
        for item in items
        if item.get("state") in ("claimed", "sent")
    }


def stored_task(task_id: str) -> dict[str, Any] | None:
    """The task's item exactly as stored (tests check what it never holds)."""
    return raw_item(_task_key(task_id))


def stored_contact(task_id: str) -> dict[str, Any] | None:
    """The task's contact item exactly as stored, expired or not (tests check what TTL has
    not removed yet)."""
    return raw_item(_contact_key(task_id))
