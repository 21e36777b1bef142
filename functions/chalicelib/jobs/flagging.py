"""Scheduled: flag dissatisfied customers who asked for a call, and keep their tasks moving.

Flagging is exactly once: a task's id is derived from its first rating, the task, its
contact and the customer's open-task pointer are written in one conditional transaction,
and a later rating joins the open task only if the task does not hold it yet (its comment
goes to the contact, which expires).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from uuid import NAMESPACE_URL, uuid4, uuid5
from zoneinfo import ZoneInfo

from aws_lambda_powertools.metrics import MetricUnit

from ..config import settings
from ..domain.consent import from_kiosk
from ..domain.survey import Store
from ..domain.tasks import CallbackTask, TaskRating, due_at, new_task, wants_callback
from ..domain.text import quote_for_notification
from ..domain.webhooks import event_text
from ..errors import Conflict, DependencyUnavailable
from ..flows.webhooks import queue_event
from ..notify.chat import post_chat
from ..notify.topics import publish
from ..observability import logger, metrics
from ..storage import callback_requests, consents, ratings, stores, tasks, visits
from ..storage.sms_state import key_of


def flag_kiosk_callbacks(rating_ids: list[str], now: datetime) -> int:
    """Kiosk ratings that asked for a call (found by aggregation in the arrivals). A rating
    that storage fails on does not stop the others; then DependencyUnavailable is raised at
    the end, so the aggregation's watermark stays and its next run flags it again."""
    flagged, failed = 0, 0
    for rating_id in rating_ids:
        try:
            flagged += _flag_kiosk_rating(rating_id, now)
        except DependencyUnavailable:
            failed += 1
    if failed:
        raise DependencyUnavailable(f"{failed} ratings not flagged; the next run retries", 60)
    return flagged


def _flag_kiosk_rating(rating_id: str, now: datetime) -> int:
    stored = ratings.get_rating(rating_id)
    contact = stored.contact if stored else None  # None once a task has taken it
    store = stores.get_store(stored.store_id) if stored and contact else None
    if stored is None or contact is None or store is None:
        return 0
    flagged = 0
    if wants_callback(stored.score, store.survey):
        rating = TaskRating(
            rating_id=rating_id,
            channel=stored.channel,  # the kiosk's or the link survey's
            score=stored.score,
            reasons=list(stored.reasons),
            comment=stored.comment,
            tapped_at=stored.tapped_at,
        )
        phone = contact.phone or _visit_phone(stored.store_id, stored.visit_ref, now)
        if phone is None:
            # Asked on the kiosk for a call on the visit's number, which no store system gave.
            logger.warning("callback without a number on file", extra={"rating_id": rating_id})
            metrics.add_metric(name="callbacks_without_number", unit=MetricUnit.Count, value=1)
        else:
            # The consent the kiosk's box gave, recorded here, off the ingest path's budget.
            given = from_kiosk(rating_id, contact.model_dump(), stored.locale, stored.tapped_at)
            consents.record_given(key_of(phone), given)
            flagged = _flag(store, rating, phone, contact.name, now)
    ratings.strip_contact(rating_id)
    return flagged


def _visit_phone(store_id: str, visit_ref: str | None, now: datetime) -> str | None:
    """The number the store system gave for the visit (its SMS invitation's), if any."""
    return visits.phone_of(store_id, visit_ref, now) if visit_ref else None


def flag_sms_callbacks(now: datetime) -> int:
    """SMS customers who answered YES to the callback offer. A request that storage fails on
    stays queued for the next run; the others go on."""
    flagged = 0
    for request in callback_requests.pending(now):
        try:
            flagged += _flag_sms_request(request, now)
        except DependencyUnavailable:
            logger.warning("sms callback request left for the next run")
    return flagged


def _flag_sms_request(request: callback_requests.SmsCallbackRequest, now: datetime) -> int:
    store = stores.get_store(request.store_id)
    flagged = 0
    if store is not None and request.rating_id and request.score is not None:
        rating = TaskRating(
            rating_id=request.rating_id,
            channel="sms",
            score=request.score,
            comment=request.comment,
            tapped_at=request.requested_at,
        )
        flagged = _flag(store, rating, request.phone, None, now)
    callback_requests.forget(request.conversation_id)
    return flagged


def flag_written(event: dict[str, Any], now: Callable[[], datetime]) -> dict[str, Any]:
    """DynamoDB Streams: a rating that asked for a call, or an SMS customer's YES, flagged
    seconds after it is written rather than at the next scheduled run. Lambda's filter
    (infra/resources.yaml) sends only those inserts; `_flag` makes it exactly once with the
    scheduled runs, which stay as the net behind it, and under redelivery. A record that
    storage fails on is reported back, and Lambda retries the batch from it."""
    from aws_lambda_powertools.utilities.batch import (
        BatchProcessor,
        EventType,
        process_partial_response,
    )
    from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import (
        DynamoDBRecord,
    )

    def flag_record(record: DynamoDBRecord) -> int:
        key = record.dynamodb.keys if record.dynamodb else {}
        rating_id = ratings.rating_id_of(key)
        if rating_id is not None:
            return _flag_kiosk_rating(rating_id, now())
        conversation_id = callback_requests.conversation_id_of(key)
        request = callback_requests.get_request(conversation_id, now()) if conversation_id else None
        return _flag_sms_request(request, now()) if request else 0

    processor = BatchProcessor(event_type=EventType.DynamoDBStreams)
    return dict(process_partial_response(event, flag_record, processor))


def _flag(store: Store, rating: TaskRating, phone: str, name: str | None, now: datetime) -> int:
    customer = key_of(phone)
    consent = consents.callback_consent(customer, now)  # what the task shows of it
    for _ in range(3):  # a race with another run settles in one retry
        task = tasks.open_task_of(store.store_id, customer, now)
        if task is not None:
            held = next((r for r in task.ratings if r.rating_id == rating.rating_id), None)
            if held is not None and (held.comment or not rating.comment):
                return 0  # flagged before (a re-run)
            # A new rating joins the task; a held one may gain the comment that came later
            # (an SMS customer flagged with the score, who then said what went wrong).
            ratings = (
                [rating if r.rating_id == rating.rating_id else r for r in task.ratings]
                if held
                else [*task.ratings, rating]
            )
            joined = task.model_copy(
                update={
                    "ratings": ratings,
                    "priority": min(task.priority, rating.score),
                    "consent": consent or task.consent,
                    "version": task.version + 1,
                }
            )
            try:
                tasks.save_task(joined, now, comments=[rating])
            except Conflict:
                continue
            return 0
        task_id = str(uuid5(NAMESPACE_URL, f"storepulse-task:{store.store_id}:{rating.rating_id}"))
        if tasks.get_task(task_id, now) is not None:
            return 0  # flagged by an earlier run, and resolved since
        deadline = timedelta(hours=settings().callback_deadline_hours)
        due = due_at(now, store.timezone, store.opening_hours, deadline)
        keep = timedelta(days=settings().phone_retention_days)
        task = new_task(task_id, store.store_id, customer, phone, name, rating, now, due, keep)
        task = task.model_copy(update={"consent": consent})
        try:
            tasks.create_task(task, phone)
        except Conflict:
            continue
        _notify(store, task, "callback_task", now)
        return 1
    # The request stays queued (its rating keeps the contact): the next run tries again.
    raise DependencyUnavailable("the customer's task kept changing; flag it on the next run", 60)


def follow_up(now: datetime) -> dict[str, int]:
    """Notify tasks not yet notified; remind unclaimed ones at half their deadline; escalate
    overdue ones to the store manager. Each at most once per task (see `_notify`). A store
    or task that storage fails on is left to the next run (`deferred`); the others go on."""
    counts = {"notified": 0, "reminded": 0, "escalated": 0, "deferred": 0}
    for store_id in stores.list_store_ids():
        try:
            store = stores.get_store(store_id)
            listed = (
                [t for s in ("open", "claimed") for t in tasks.tasks_of(store_id, s)]
                if store
                else []
            )
        except DependencyUnavailable:
            counts["deferred"] += 1
            continue
        for task in listed:
            kind = _follow_up_kind(task, now)
            if store is None or kind is None:
                continue
            try:
                # The list holds no names or comments: the message reads them from the task.
                full = tasks.get_task(task.task_id, now)
            except DependencyUnavailable:
                counts["deferred"] += 1
                continue
            if full is not None:
                counts[_COUNT[kind]] += _notify(store, full, kind, now)
    return counts


def _follow_up_kind(task: CallbackTask, now: datetime) -> str | None:
    if task.notified_at is None:
        return "callback_task"
    if (
        task.status == "open"
        and task.reminded_at is None
        and now >= task.created_at + (task.due_at - task.created_at) / 2
    ):
        return "callback_reminder"
    if task.escalated_at is None and now > task.due_at:
        return "callback_overdue"
    return None


_COUNT = {
    "callback_task": "notified",
    "callback_reminder": "reminded",
    "callback_overdue": "escalated",
}


_STAMP = {
    "callback_task": "notified_at",
    "callback_reminder": "reminded_at",
    "callback_overdue": "escalated_at",
}


def _notify(store: Store, task: CallbackTask, kind: str, now: datetime) -> int:
    """Publish the task's `kind` notification at most once; 1 if this call published it.

    The claim (a conditional write) comes before the publish and is the record that it went
    out. A publish that raised releases the claim, so the next run sends it; so does a
    claim whose write got no answer (it may have happened unseen, or land later: it is
    made void first). A process that dies between
    the claim and the publish leaves the claim: that notification is not sent, rather than
    sent twice; the task itself stays on the staff's list. The task's stamp (`notified_at`,
    ...) only spares later runs the claim's read: a lost stamp is put back by the next run."""
    claim_id = uuid4().hex
    try:
        claimed = tasks.claim_notification(task.task_id, kind, claim_id, now)
    except DependencyUnavailable:
        _release(task, kind, claim_id)
        return 0
    if not claimed:  # an earlier run sent it (or died sending it); its stamp was lost
        _stamp(task, kind, now)
        return 0
    text = notification_text(store, task, kind)
    audience = "manager" if kind == "callback_overdue" else "staff"
    try:
        message_id = publish(
            settings().callbacks_topic,
            text.split("\n", 1)[0][:100],
            text,
            {"store_id": store.store_id, "kind": kind, "audience": audience}
            # Managers subscribe by region (notify/subscriptions.py).
            | ({"region": store.region} if store.region else {}),
        )
    except DependencyUnavailable:
        logger.warning("callback notification not sent; the next run retries")
        _release(task, kind, claim_id)
        return 0
    if store.chat_webhook_url:
        post_chat(store.chat_webhook_url, text, store.store_id)
    # Best effort, like chat: the event id makes a queued delivery once per task and kind.
    with contextlib.suppress(DependencyUnavailable):
        data = {"task_id": task.task_id, "kind": kind, "message": event_text(text)}
        queue_event(store.store_id, "callback_task", data, f"{task.task_id}.{kind}", now)
    # Best effort: the claim already records the notification as sent.
    with contextlib.suppress(DependencyUnavailable):
        tasks.confirm_notification(task.task_id, kind, claim_id, message_id, now)
    _stamp(task, kind, now)
    return 1


def _release(task: CallbackTask, kind: str, claim_id: str) -> None:
    """Our claim taken back: made void first (a claim of it still on its way, its answer
    lost, can then no longer land after the release), then released if it stands."""
    steps: tuple[Callable[[], None], ...] = (
        lambda: tasks.void_notification_claim(task.task_id, kind, claim_id),
        lambda: tasks.release_notification(task.task_id, kind, claim_id),
    )
    for step in steps:
        for _ in range(_RELEASE_TRIES):
            try:
                step()
            except DependencyUnavailable:
                continue
            break
        else:
            # At most once wins: the claim may stand, unpublished, and then nobody sends it.
            logger.error(
                "callback notification claim not released; it will not be sent",
                extra={"task_id": task.task_id, "kind": kind},
            )
            return


# Each try is itself retried by botocore; a claim left behind costs a notification.
_RELEASE_TRIES = 3


def _stamp(task: CallbackTask, kind: str, now: datetime) -> None:
    """Record on the task that `kind` is done (the follow-up's list query reads it). Lost when
    staff moved the task meanwhile or storage fails: the next run finds the claim and puts
    it back."""
    with contextlib.suppress(Conflict, DependencyUnavailable):
        tasks.save_task(
            task.model_copy(update={_STAMP[kind]: now, "version": task.version + 1}), now
        )


# How much of a customer's name and comment a notification quotes.
NAME_CHARS = 40
COMMENT_CHARS = 160


def notification_text(store: Store, task: CallbackTask, kind: str) -> str:
    """Who, what went wrong, the deadline and a link; a masked number only (PII). A task
    whose contact has expired is "a customer"."""
    zone = ZoneInfo(store.timezone)
    due = task.due_at.astimezone(zone).strftime("%a %d %b %H:%M")
    # Customer text is quoted as one inert line: it must not read as a line of ours.
    masked = task.phone_masked or "a customer"
    who = f"{quote_for_notification(task.name, NAME_CHARS)} ({masked})" if task.name else masked
    worst = min(task.ratings, key=lambda r: r.score)
    reasons = (
        ", ".join(sorted({reason for r in task.ratings for reason in r.reasons}))
        or "no reason given"
    )
    comment = next((r.comment for r in task.ratings if r.comment), None)
    heading = {
        "callback_task": f"Call back {who} by {due}",
        "callback_reminder": f"Reminder: nobody has claimed the call to {who} (due {due})",
        "callback_overdue": f"OVERDUE: the call to {who} was due {due}",
    }[kind]
    lines = [
        heading,
        f"{store.name}: rated {worst.score}/{store.survey.scale.max} by {worst.channel}; "
        f"{reasons}.",
    ]
    if comment:
        lines.append(f"Comment: {quote_for_notification(comment, COMMENT_CHARS)}")
    lines.append(task_link(settings().staff_url, task.task_id))
    return "\n".join(lines)


def task_link(staff_url: str, task_id: str) -> str:
    """The staff page opened on this task (`#task=`, beside any fragment the URL has)."""
    return f"{staff_url}{'&' if '#' in staff_url else '#'}task={task_id}"
