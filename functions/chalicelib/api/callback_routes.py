"""Staff API for callback tasks: list, read (the one place the full number and the history
are shown, each read of the number recorded), claim, record call attempts, resolve; and a
store's recovery figures. Every change is recorded as an event in the task's history.

The task rules and storage load on first use (`_tasks()`): the kiosk ingest path, a
cold-start budget, never needs them."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any, Literal

from chalice.app import Blueprint
from pydantic import BaseModel, ConfigDict, Field

from ..auth import StaffPrincipal, staff_principal
from ..clock import now
from ..config import settings
from ..errors import BadRequest, Conflict, NotFound
from ..observability import logger
from ..storage import stores
from .http import MAX_ID_CHARS, PeriodQuery, parse_body, parse_query

if TYPE_CHECKING:
    from ..domain.tasks import CallbackTask, TaskEvent

bp = Blueprint(__name__)
STATUSES: tuple[Literal["open", "claimed", "resolved"], ...] = ("open", "claimed", "resolved")


def _tasks() -> tuple[Any, Any]:
    """(the task rules, the task storage), imported on first use."""
    from ..domain import tasks as rules
    from ..storage import tasks as storage

    return rules, storage


class TaskQuery(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    store_id: str | None = Field(default=None, max_length=MAX_ID_CHARS)
    status: Literal["open", "claimed", "resolved"] = "open"


def _staff() -> StaffPrincipal:
    return staff_principal(bp.current_request.headers)


@bp.route("/v1/callbacks", methods=["GET"])
def list_tasks() -> Any:
    staff = _staff()
    query = parse_query(bp.current_request.query_params, TaskQuery)
    store_id = query.store_id
    if store_id is None and len(staff.store_ids) == 1:
        store_id = next(iter(staff.store_ids))
    if store_id is None:
        raise BadRequest("store_id is required")
    staff.require_store(store_id)
    _, storage = _tasks()
    tasks = storage.with_contacts(storage.tasks_of(store_id, query.status), now())
    return {"tasks": [task.view() for task in tasks]}


@bp.route("/v1/callbacks/limits", methods=["GET"])
def callback_limits() -> Any:
    _staff()
    rules, _ = _tasks()
    return rules.limits()


def _task_for(staff: StaffPrincipal, task_id: str) -> CallbackTask:
    _, storage = _tasks()
    task: CallbackTask | None = storage.get_task(task_id, now())
    if task is None:
        raise NotFound(f"task {task_id} does not exist")
    staff.require_store(task.store_id)
    return task


@bp.route("/v1/callbacks/{task_id}", methods=["GET"])
def read_task(task_id: str) -> Any:
    staff = _staff()
    at = now()
    rules, storage = _tasks()
    record = storage.read_task(task_id, at)
    if record is None:
        raise NotFound(f"task {task_id} does not exist")
    staff.require_store(record.task.store_id)
    events: list[TaskEvent] = record.events
    if record.phone is not None:
        read = rules.new_event("phone_read", staff.subject, at)
        storage.add_event(record.task, read)
        events = [*events, read]
        logger.info("callback number read", extra={"task_id": task_id, "staff": staff.subject})
    return record.task.view(phone=record.phone, history=rules.history(record.task, events))


def _save(task: CallbackTask, event: TaskEvent) -> dict[str, Any]:
    """Store the task's next version with the event that made it; 409 if it moved on."""
    _, storage = _tasks()
    try:
        storage.save_task(task, event.at, event)
    except storage.Conflict:
        raise Conflict("the task changed meanwhile; reload it") from None
    return task.view()


@bp.route("/v1/callbacks/{task_id}/claim", methods=["POST"])
def claim_task(task_id: str) -> Any:
    staff = _staff()
    task = _task_for(staff, task_id)
    rules, _ = _tasks()
    at = now()
    try:
        claimed = rules.claim(task, staff.subject, at)
    except rules.TransitionError as error:
        raise Conflict(str(error)) from None
    if claimed is task:
        return task.view()
    return _save(claimed, rules.new_event("claimed", staff.subject, at))


@bp.route("/v1/callbacks/{task_id}/attempts", methods=["POST"])
def record_attempt(task_id: str) -> Any:
    staff = _staff()
    rules, _ = _tasks()
    request = parse_body(bp.current_request, rules.AttemptRequest)
    task = _task_for(staff, task_id)
    at = now()
    try:
        attempted = rules.record_attempt(
            task, staff.subject, request, at, admin=staff.role == "admin"
        )
    except rules.TransitionError as error:
        raise Conflict(str(error)) from None
    if attempted is task:
        return task.view()  # the same attempt sent again: recorded once
    event = rules.new_event(
        "attempt", staff.subject, at, {"result": request.result}, note=request.note
    )
    return _save(attempted, event)


@bp.route("/v1/callbacks/{task_id}/resolve", methods=["POST"])
def resolve_task(task_id: str) -> Any:
    staff = _staff()
    rules, _ = _tasks()
    request = parse_body(bp.current_request, rules.ResolveRequest)
    task = _task_for(staff, task_id)
    store = stores.get_store(task.store_id)
    if store is None:
        raise NotFound(f"store {task.store_id} does not exist")
    at = now()
    keep = timedelta(days=settings().resolved_contact_retention_days)
    try:
        resolved = rules.resolve(task, staff.subject, request, store.survey.scale, at, keep)
    except rules.TransitionError as error:
        raise Conflict(str(error)) from None
    except ValueError as error:
        raise BadRequest(str(error)) from None
    detail = {"outcome": request.outcome, "recovered_score": request.recovered_score}
    return _save(resolved, rules.new_event("resolved", staff.subject, at, detail, request.note))


@bp.route("/v1/stores/{store_id}/recovery", methods=["GET"])
def store_recovery(store_id: str) -> Any:
    _staff().require_store(store_id)
    store = stores.get_store(store_id)
    if store is None:
        raise NotFound(f"store {store_id} does not exist")
    query = parse_query(bp.current_request.query_params, PeriodQuery)
    at = now()
    start, end = query.period(store.timezone, at, timedelta(days=30))
    rules, storage = _tasks()
    tasks = [
        task
        for status in STATUSES
        for task in storage.tasks_of(store_id, status, due_from=start)
        if start <= task.created_at < end
    ]
    return rules.recovery_metrics(tasks, store.survey.scale, at)
