"""Callback tasks as staff work them: list, read (the one place the full number and the
history are shown, each read of the number recorded), claim, record call attempts, resolve;
and a store's recovery figures. Every change is stored with the event that made it.

Loaded on first use, with the task rules and storage: the kiosk ingest path, a cold-start
budget, never needs them."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from ..auth import StaffPrincipal
from ..config import settings
from ..domain.survey import Store
from ..domain.tasks import (
    AttemptRequest,
    CallbackTask,
    ResolveRequest,
    TaskEvent,
    TaskStatus,
    claim,
    history,
    new_event,
    record_attempt,
    recovery_metrics,
    resolve,
)
from ..errors import BadRequest, NotFound
from ..observability import logger
from ..storage import tasks
from . import existing_store

STATUSES: tuple[TaskStatus, ...] = ("open", "claimed", "resolved")


def list_tasks(
    staff: StaffPrincipal, store_id: str | None, status: TaskStatus, at: datetime
) -> list[dict[str, Any]]:
    """The store's tasks in `status`; the store may be left out by staff of one store. A
    manager or admin names it (tasks are read per store: a region's would be a query per
    store in one request)."""
    if store_id is None and staff.role == "staff" and len(staff.store_ids) == 1:
        store_id = next(iter(staff.store_ids))
    if store_id is None:
        raise BadRequest("store_id is required: name one of your stores")
    staff.require_store(store_id)
    return [task.view() for task in tasks.with_contacts(tasks.tasks_of(store_id, status), at)]


def read_task(staff: StaffPrincipal, task_id: str, at: datetime) -> dict[str, Any]:
    """The task with the customer's number and its history; the read is recorded."""
    record = tasks.read_task(task_id, at)
    if record is None:
        raise NotFound(f"task {task_id} does not exist")
    staff.require_store(record.task.store_id)
    events: list[TaskEvent] = record.events
    if record.phone is not None:
        read = new_event("phone_read", staff.subject, at)
        tasks.add_event(record.task, read)
        events = [*events, read]
        logger.info("callback number read", extra={"task_id": task_id, "staff": staff.subject})
    return record.task.view(phone=record.phone, history=history(record.task, events))


def claim_task(staff: StaffPrincipal, task_id: str, at: datetime) -> dict[str, Any]:
    """The task claimed by `staff` (claiming it twice changes nothing)."""
    task = _task_for(staff, task_id, at)
    claimed = claim(task, staff.subject, at)
    if claimed is task:
        return task.view()
    return _save(claimed, new_event("claimed", staff.subject, at))


def record_call(
    staff: StaffPrincipal, task_id: str, request: AttemptRequest, at: datetime
) -> dict[str, Any]:
    """A call attempt by the claimer (or an admin, or a manager of the store's region); the
    same attempt sent again counts once."""
    task = _task_for(staff, task_id, at)
    supervisor = staff.can_manage(existing_store(task.store_id))
    attempted = record_attempt(task, staff.subject, request, at, admin=supervisor)
    if attempted is task:
        return task.view()
    event = new_event("attempt", staff.subject, at, {"result": request.result}, note=request.note)
    return _save(attempted, event)


def resolve_task(
    staff: StaffPrincipal, task_id: str, request: ResolveRequest, at: datetime
) -> dict[str, Any]:
    """The task resolved; its contact is kept `resolved_contact_retention_days` more at most."""
    task = _task_for(staff, task_id, at)
    store = existing_store(task.store_id)
    keep = timedelta(days=settings().resolved_contact_retention_days)
    resolved = resolve(task, staff.subject, request, store.survey.scale, at, keep)
    detail: dict[str, str | int | None] = {
        "outcome": request.outcome,
        "recovered_score": request.recovered_score,
    }
    return _save(resolved, new_event("resolved", staff.subject, at, detail, request.note))


def store_recovery(store: Store, start: datetime, end: datetime, at: datetime) -> dict[str, Any]:
    """Recovery figures of the store's tasks created in [start, end)."""
    created = [
        task
        for status in STATUSES
        for task in tasks.tasks_of(store.store_id, status, due_from=start)
        if start <= task.created_at < end
    ]
    return recovery_metrics(created, store.survey.scale, at)


def _task_for(staff: StaffPrincipal, task_id: str, at: datetime) -> CallbackTask:
    task = tasks.get_task(task_id, at)
    if task is None:
        raise NotFound(f"task {task_id} does not exist")
    staff.require_store(task.store_id)
    return task


def _save(task: CallbackTask, event: TaskEvent) -> dict[str, Any]:
    """Store the task's next version with the event that made it; Conflict if it moved on."""
    tasks.save_task(task, event.at, event)
    return task.view()
