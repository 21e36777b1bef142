"""Callback tasks: a dissatisfied customer who left a way to reach them, to be called back
before a deadline. Pure rules: who is flagged, deadlines, the task's states, recovery."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field

from .aggregates import top_box
from .consent import ConsentSummary
from .phones import mask_phone
from .survey import Scale, Survey

TaskStatus = Literal["open", "claimed", "resolved"]
Outcome = Literal["resolved", "unreachable", "declined"]
DEFAULT_DEADLINE = timedelta(hours=24)


class TaskRating(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)

    rating_id: str
    channel: str
    score: int
    reasons: list[str] = Field(default_factory=list)
    comment: str | None = None
    tapped_at: datetime


class CallbackTask(BaseModel):
    """A task as stored (no phone number: that lives in the task's contact item)."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    task_id: str
    store_id: str
    customer_key: str  # keyed HMAC of the phone: one open task per customer and store
    status: TaskStatus = "open"
    priority: int  # the lowest score among its ratings: lower is more urgent
    created_at: datetime
    due_at: datetime
    phone_masked: str
    name: str | None = None
    ratings: list[TaskRating]
    claimed_by: str | None = None
    claimed_at: datetime | None = None
    resolved_by: str | None = None
    resolved_at: datetime | None = None
    outcome: Outcome | None = None
    note: str | None = None
    recovered_score: int | None = None
    notified_at: datetime | None = None
    reminded_at: datetime | None = None
    escalated_at: datetime | None = None
    # The customer's consent to be called, as it stood when the task was made or joined.
    consent: ConsentSummary | None = None
    version: int = 0

    def view(self, phone: str | None = None) -> dict[str, Any]:
        """The task as the API shows it (DESIGN.md 4); `phone` only where staff call."""
        contact: dict[str, Any] = {"phone_masked": self.phone_masked, "name": self.name}
        contact["consent"] = self.consent.view() if self.consent else None
        if phone is not None:
            contact["phone"] = phone
        return {
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


class ResolveRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    outcome: Outcome
    note: str = Field(min_length=1, max_length=1000)
    recovered_score: int | None = None


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
) -> CallbackTask:
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
    )


class TransitionError(ValueError):
    """The task is not in a state that allows this (HTTP 409)."""


def claim(task: CallbackTask, staff: str, at: datetime) -> CallbackTask:
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


def resolve(
    task: CallbackTask, staff: str, request: ResolveRequest, scale: Scale, at: datetime
) -> CallbackTask:
    if task.status == "resolved":
        raise TransitionError("the task is resolved already")
    if (
        request.recovered_score is not None
        and not scale.min <= request.recovered_score <= scale.max
    ):
        raise ValueError(f"recovered_score must be between {scale.min} and {scale.max}")
    return task.model_copy(
        update={
            "status": "resolved",
            "claimed_by": task.claimed_by or staff,
            "claimed_at": task.claimed_at or at,
            "resolved_by": staff,
            "resolved_at": at,
            "outcome": request.outcome,
            "note": request.note,
            "recovered_score": request.recovered_score,
            "version": task.version + 1,
        }
    )


def recovery_metrics(tasks: list[CallbackTask], scale: Scale, now: datetime) -> dict[str, Any]:
    """Recovery figures of a store's tasks (DESIGN.md 4). First contact is the call's end
    (resolving records it, whatever the outcome); recovery counts customers satisfied after
    the call among those whose satisfaction was recorded."""
    resolved = [t for t in tasks if t.status == "resolved" and t.resolved_at]
    waits = sorted(
        (t.resolved_at - t.created_at).total_seconds() for t in resolved if t.resolved_at
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


def _median(ordered: list[float]) -> float:
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def _percentile(ordered: list[float], share: float) -> float:
    """Nearest-rank percentile of an ordered list."""
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]
