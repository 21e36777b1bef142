"""Callback tasks: a dissatisfied customer who left a way to reach them, to be called back
before a deadline. Pure rules: who is flagged, deadlines, the task's states and history,
how long the customer's own words are kept, recovery."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any, Literal
from uuid import uuid4
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field

from .aggregates import top_box
from .consent import ConsentSummary
from .phones import mask_phone
from .survey import Scale, Survey

TaskStatus = Literal["open", "claimed", "resolved"]
Outcome = Literal["resolved", "unreachable", "declined"]
AttemptResult = Literal["reached", "no_answer"]
EventKind = Literal["created", "claimed", "attempt", "resolved", "phone_read"]
DEFAULT_DEADLINE = timedelta(hours=24)
# The customer's contact and words (phone, name, comments, staff notes) are kept this long
# after the task is created, and no longer than DEFAULT_RESOLVED_RETENTION after it is
# resolved (STOREPULSE_PHONE_RETENTION_DAYS, STOREPULSE_RESOLVED_CONTACT_RETENTION_DAYS).
DEFAULT_CONTACT_RETENTION = timedelta(days=30)
DEFAULT_RESOLVED_RETENTION = timedelta(days=7)
NOTE_MAX_CHARS = 1000
# The same call result from the same person within this is the same attempt sent again
# (a lost response, a double tap): it is recorded once.
ATTEMPT_RETRY_WINDOW = timedelta(minutes=1)


class TaskRating(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)

    rating_id: str
    channel: str
    score: int
    reasons: list[str] = Field(default_factory=list)
    comment: str | None = None
    tapped_at: datetime


class TaskAttempt(BaseModel):
    """The last call attempt, as the task keeps it (its note is in the task's history)."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    at: datetime
    by: str
    result: AttemptResult


class TaskEvent(BaseModel):
    """One entry of a task's history: who did what when. Events are only ever added. The
    note is free text, kept with the customer's contact and gone when that expires."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    event_id: str
    at: datetime
    by: str
    event: EventKind
    detail: dict[str, str | int | None] = Field(default_factory=dict)  # never free text
    note: str | None = None

    def view(self) -> dict[str, Any]:
        """The event as `GET /v1/callbacks/{task_id}` shows it in `history`."""
        shown: dict[str, Any] = {"at": self.at.isoformat(), "by": self.by, "event": self.event}
        detail: dict[str, Any] = dict(self.detail)
        if self.event in ("attempt", "resolved"):
            detail["note"] = self.note
        if detail:
            shown["detail"] = detail
        return shown


def new_event(
    event: EventKind,
    by: str,
    at: datetime,
    detail: dict[str, str | int | None] | None = None,
    note: str | None = None,
) -> TaskEvent:
    """A new history entry with its own id (two events of one moment stay two)."""
    return TaskEvent(
        event_id=uuid4().hex[:12], at=at, by=by, event=event, detail=detail or {}, note=note
    )


class CallbackTask(BaseModel):
    """A task. The customer's contact and words (`phone_masked`, `name`, the ratings'
    comments) are kept apart from it by the store, and expire at `contact_expires_at`; the
    rest (scores, reasons, outcome, times) stays for the recovery figures."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    task_id: str
    store_id: str
    customer_key: str  # keyed HMAC of the phone: one open task per customer and store
    status: TaskStatus = "open"
    priority: int  # the lowest score among its ratings: lower is more urgent
    created_at: datetime
    due_at: datetime
    phone_masked: str | None = None  # None once the contact has expired
    name: str | None = None
    ratings: list[TaskRating]
    contact_expires_at: datetime | None = None
    claimed_by: str | None = None
    claimed_at: datetime | None = None
    first_contact_at: datetime | None = None  # the first call attempt, reached or not
    last_attempt: TaskAttempt | None = None
    resolved_by: str | None = None
    resolved_at: datetime | None = None
    outcome: Outcome | None = None
    recovered_score: int | None = None
    notified_at: datetime | None = None
    reminded_at: datetime | None = None
    escalated_at: datetime | None = None
    # The customer's consent to be called, as it stood when the task was made or joined.
    consent: ConsentSummary | None = None
    version: int = 0

    def view(
        self, phone: str | None = None, history: list[TaskEvent] | None = None
    ) -> dict[str, Any]:
        """The task as the API shows it; `phone` and `history` only where staff call."""
        contact: dict[str, Any] = {"phone_masked": self.phone_masked, "name": self.name}
        contact["consent"] = self.consent.view() if self.consent else None
        if phone is not None:
            contact["phone"] = phone
        shown = {
            "task_id": self.task_id,
            "store_id": self.store_id,
            "status": self.status,
            "priority": self.priority,
            "created_at": self.created_at.isoformat(),
            "due_at": self.due_at.isoformat(),
            "claimed_by": self.claimed_by,
            "outcome": self.outcome,
            "contact": contact,
            "ratings": [r.model_dump(mode="json") for r in self.ratings],
        }
        if history is not None:
            shown["history"] = [event.view() for event in history]
        return shown


class ResolveRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    outcome: Outcome
    note: str = Field(min_length=1, max_length=NOTE_MAX_CHARS)
    recovered_score: int | None = None


class AttemptRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    result: AttemptResult
    note: str | None = Field(default=None, min_length=1, max_length=NOTE_MAX_CHARS)


def limits() -> dict[str, int]:
    """What staff may write, for the staff page's forms (`GET /v1/callbacks/limits`)."""
    return {"note_max_chars": NOTE_MAX_CHARS}


def wants_callback(score: int, survey: Survey) -> bool:
    """Flagging rule: at or below the survey's threshold (bottom two of 1-5, 0-6 of 0-10)."""
    return score <= survey.callback_at_or_below


def due_at(
    created_at: datetime,
    zone: str,
    opening_hours: dict[int, tuple[int, int]] | None,
    deadline: timedelta = DEFAULT_DEADLINE,
) -> datetime:
    """The deadline: `deadline` after creation, counted in opening hours when the store has
    them ({weekday 0=Monday: (open hour, close hour)}; a closed day is absent)."""
    if not opening_hours:
        return created_at + deadline
    tz = ZoneInfo(zone)
    moment, left = created_at.astimezone(tz), deadline
    for _ in range(370):  # a year of days at most, even with one open hour a week
        hours = opening_hours.get(moment.weekday())
        if hours is not None:
            day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
            opens = day.replace(hour=hours[0])
            closes = day + timedelta(hours=hours[1])
            start = max(moment, opens)
            if start < closes:
                if start + left <= closes:
                    return start + left
                left -= closes - start
        moment = (moment + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    raise ValueError("opening hours leave no time to call back")


def new_task(
    task_id: str,
    store_id: str,
    customer_key: str,
    phone: str,
    name: str | None,
    rating: TaskRating,
    created_at: datetime,
    due: datetime,
    keep_contact: timedelta = DEFAULT_CONTACT_RETENTION,
) -> CallbackTask:
    """A task for a customer's first unhappy rating; their contact is kept `keep_contact`."""
    return CallbackTask(
        task_id=task_id,
        store_id=store_id,
        customer_key=customer_key,
        priority=rating.score,
        created_at=created_at,
        due_at=due,
        phone_masked=mask_phone(phone),
        name=name,
        ratings=[rating],
        contact_expires_at=created_at + keep_contact,
    )


def contact_is_kept(task: CallbackTask, at: datetime) -> bool:
    """Whether the customer's contact and words are still kept at `at`."""
    return task.contact_expires_at is None or at < task.contact_expires_at


class TransitionError(ValueError):
    """The task is not in a state that allows this."""


class OutOfScale(ValueError):
    """A recovered score outside the store's scale."""


def claim(task: CallbackTask, staff: str, at: datetime) -> CallbackTask:
    """The task claimed by `staff` (the same task if they hold it already)."""
    if task.status == "claimed" and task.claimed_by == staff:
        return task  # claiming twice is harmless
    if task.status != "open":
        holder = f" by {task.claimed_by}" if task.claimed_by else ""
        raise TransitionError(f"the task is {task.status}{holder}")
    return task.model_copy(
        update={
            "status": "claimed",
            "claimed_by": staff,
            "claimed_at": at,
            "version": task.version + 1,
        }
    )


def record_attempt(
    task: CallbackTask, staff: str, request: AttemptRequest, at: datetime, *, admin: bool = False
) -> CallbackTask:
    """A call attempt by the staff member who claimed the task (or an admin). The first one
    is the first contact. The same result from the same person within
    ATTEMPT_RETRY_WINDOW is a retry: the task comes back unchanged."""
    if task.status == "resolved":
        raise TransitionError("the task is resolved already")
    if not admin and not (task.status == "claimed" and task.claimed_by == staff):
        holder = f"claimed by {task.claimed_by}" if task.claimed_by else "not claimed"
        raise TransitionError(f"the task is {holder}: claim it before recording a call")
    last = task.last_attempt
    if (
        last is not None
        and last.by == staff
        and last.result == request.result
        and timedelta(0) <= at - last.at < ATTEMPT_RETRY_WINDOW
    ):
        return task
    return task.model_copy(
        update={
            "first_contact_at": task.first_contact_at or at,
            "last_attempt": TaskAttempt(at=at, by=staff, result=request.result),
            "version": task.version + 1,
        }
    )


def resolve(
    task: CallbackTask,
    staff: str,
    request: ResolveRequest,
    scale: Scale,
    at: datetime,
    keep_contact: timedelta = DEFAULT_RESOLVED_RETENTION,
) -> CallbackTask:
    """The task resolved; the customer's contact and words are kept `keep_contact` more at
    most (never longer than they would have been)."""
    if task.status == "resolved":
        raise TransitionError("the task is resolved already")
    if (
        request.recovered_score is not None
        and not scale.min <= request.recovered_score <= scale.max
    ):
        raise OutOfScale(f"recovered_score must be between {scale.min} and {scale.max}")
    kept_until = at + keep_contact
    if task.contact_expires_at is not None:
        kept_until = min(kept_until, task.contact_expires_at)
    return task.model_copy(
        update={
            "status": "resolved",
            "claimed_by": task.claimed_by or staff,
            "claimed_at": task.claimed_at or at,
            "resolved_by": staff,
            "resolved_at": at,
            "outcome": request.outcome,
            "recovered_score": request.recovered_score,
            "contact_expires_at": kept_until,
            "version": task.version + 1,
        }
    )


def history(task: CallbackTask, events: list[TaskEvent]) -> list[TaskEvent]:
    """The task's history, oldest first: its creation, then the recorded events."""
    created = TaskEvent(
        event_id="created",
        at=task.created_at,
        by="system",
        event="created",
        detail={"channel": task.ratings[0].channel} if task.ratings else {},
    )
    return [created, *sorted(events, key=lambda event: (event.at, event.event_id))]


def recovery_metrics(tasks: list[CallbackTask], scale: Scale, now: datetime) -> dict[str, Any]:
    """Recovery figures of a store's tasks. Time to first contact runs from creation to the
    first call attempt, reached or not (to the resolution where no attempt was recorded);
    recovery counts customers satisfied after the call among those whose satisfaction was
    recorded."""
    resolved = [t for t in tasks if t.status == "resolved" and t.resolved_at]
    waits = sorted(
        (contact - t.created_at).total_seconds()
        for t in tasks
        if (contact := first_contact(t)) is not None
    )
    rescored = [t for t in resolved if t.recovered_score is not None]
    return {
        "tasks": len(tasks),
        "open": sum(1 for t in tasks if t.status != "resolved"),
        "overdue": sum(1 for t in tasks if t.status != "resolved" and t.due_at < now),
        "resolved": len(resolved),
        "within_deadline_share": (
            round(
                sum(1 for t in resolved if t.resolved_at and t.resolved_at <= t.due_at)
                / len(resolved),
                4,
            )
            if resolved
            else None
        ),
        "time_to_first_contact": {
            "median_s": round(_median(waits)) if waits else None,
            "p90_s": round(_percentile(waits, 0.9)) if waits else None,
        },
        "recovery_rate": (
            round(
                sum(1 for t in rescored if (t.recovered_score or 0) >= top_box(scale))
                / len(rescored),
                4,
            )
            if rescored
            else None
        ),
    }


def first_contact(task: CallbackTask) -> datetime | None:
    """When the customer was first called: the first attempt, else the resolution."""
    return task.first_contact_at or (task.resolved_at if task.status == "resolved" else None)


def _median(ordered: list[float]) -> float:
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def _percentile(ordered: list[float], share: float) -> float:
    """Nearest-rank percentile of an ordered list."""
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]
