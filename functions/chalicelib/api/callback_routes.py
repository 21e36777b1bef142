"""Staff API for callback tasks: list, read (with the full number and the history), claim,
record call attempts, resolve; and a store's recovery figures (flows/callback_tasks.py).

The flow, the task rules and storage load on first use, inside each handler: the kiosk
ingest path, a cold-start budget, never needs them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..auth import StaffPrincipal, staff_principal
from ..clock import now
from ..flows import existing_store
from .http import MAX_ID_CHARS, ApiBlueprint, PeriodQuery, parse_body, parse_query

bp = ApiBlueprint(__name__)


class TaskQuery(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    store_id: str | None = Field(default=None, max_length=MAX_ID_CHARS)
    status: Literal["open", "claimed", "resolved"] = "open"


def _staff() -> StaffPrincipal:
    return staff_principal(bp.current_request.headers)


@bp.route("/v1/callbacks", methods=["GET"])
def list_tasks() -> Any:
    from ..flows import callback_tasks

    staff = _staff()
    query = parse_query(bp.current_request.query_params, TaskQuery)
    return {"tasks": callback_tasks.list_tasks(staff, query.store_id, query.status, now())}


@bp.route("/v1/callbacks/limits", methods=["GET"])
def callback_limits() -> Any:
    from ..domain.tasks import limits

    _staff()
    return limits()


@bp.route("/v1/callbacks/{task_id}", methods=["GET"])
def read_task(task_id: str) -> Any:
    from ..flows import callback_tasks

    return callback_tasks.read_task(_staff(), task_id, now())


@bp.route("/v1/callbacks/{task_id}/claim", methods=["POST"])
def claim_task(task_id: str) -> Any:
    from ..flows import callback_tasks

    return callback_tasks.claim_task(_staff(), task_id, now())


@bp.route("/v1/callbacks/{task_id}/attempts", methods=["POST"])
def record_attempt(task_id: str) -> Any:
    from ..domain.tasks import AttemptRequest
    from ..flows import callback_tasks

    staff = _staff()
    request = parse_body(bp.current_request, AttemptRequest)
    return callback_tasks.record_call(staff, task_id, request, now())


@bp.route("/v1/callbacks/{task_id}/resolve", methods=["POST"])
def resolve_task(task_id: str) -> Any:
    from ..domain.tasks import ResolveRequest
    from ..flows import callback_tasks

    staff = _staff()
    request = parse_body(bp.current_request, ResolveRequest)
    return callback_tasks.resolve_task(staff, task_id, request, now())


@bp.route("/v1/stores/{store_id}/recovery", methods=["GET"])
def store_recovery(store_id: str) -> Any:
    from ..flows import callback_tasks

    _staff().require_store(store_id)
    store = existing_store(store_id)
    query = parse_query(bp.current_request.query_params, PeriodQuery)
    at = now()
    start, end = query.period(store.timezone, at, timedelta(days=30))
    return callback_tasks.store_recovery(store, start, end, at)
