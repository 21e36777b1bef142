"""Callback task rules with plain values: flagging, transitions, recovery figures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.domain.survey import DEFAULT_SURVEY, Scale, Survey
from chalicelib.domain.tasks import (
    AttemptRequest,
    ResolveRequest,
    TaskRating,
    TransitionError,
    claim,
    contact_is_kept,
    history,
    new_event,
    new_task,
    record_attempt,
    recovery_metrics,
    resolve,
    wants_callback,
)

pytestmark = pytest.mark.unit

AT = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
FIVE = DEFAULT_SURVEY.scale


def task(score: int = 1, created: datetime = AT):
    rating = TaskRating(rating_id="r1", channel="kiosk", score=score, tapped_at=created)
    return new_task(
        "t1",
        "store-a",
        "key",
        "+14155550123",
        "Ana",
        rating,
        created,
        created + timedelta(hours=24),
    )


@pytest.mark.parametrize(("score", "flagged"), [(1, True), (2, True), (3, False), (5, False)])
def test_the_bottom_two_of_five_are_flagged(score, flagged):
    assert wants_callback(score, DEFAULT_SURVEY) is flagged


@pytest.mark.parametrize(("score", "flagged"), [(0, True), (6, True), (7, False), (10, False)])
def test_detractors_are_flagged_on_a_0_to_10_survey(score, flagged):
    nps = Survey(
        survey_id="nps",
        question={"en": "?"},
        scale=Scale(kind="nps", min=0, max=10),
        callback_at_or_below=6,
    )
    assert wants_callback(score, nps) is flagged


def test_open_then_claimed_then_resolved():
    claimed = claim(task(), "alice", AT + timedelta(hours=1))
    done = resolve(claimed, "alice", ResolveRequest(outcome="declined", note="n"), FIVE, AT)

    assert (claimed.status, claimed.claimed_by) == ("claimed", "alice")
    assert (done.status, done.outcome, done.resolved_by) == ("resolved", "declined", "alice")
    assert done.version == 2


def test_claiming_twice_is_harmless_but_not_someone_elses():
    claimed = claim(task(), "alice", AT)

    assert claim(claimed, "alice", AT) is claimed
    with pytest.raises(TransitionError, match="claimed by alice"):
        claim(claimed, "bob", AT)


def test_a_resolved_task_cannot_be_claimed_or_resolved_again():
    done = resolve(task(), "alice", ResolveRequest(outcome="resolved", note="ok"), FIVE, AT)

    with pytest.raises(TransitionError):
        claim(done, "bob", AT)
    with pytest.raises(TransitionError):
        resolve(done, "bob", ResolveRequest(outcome="resolved", note="ok"), FIVE, AT)


def test_phone_numbers_are_only_masked_in_the_task():
    view = task().view()

    assert view["contact"] == {"phone_masked": "+1******0123", "name": "Ana", "consent": None}
    assert "+14155550123" not in str(view)


def test_recovery_figures():
    def done(hours: float, recovered: int | None):
        request = ResolveRequest(outcome="resolved", note="n", recovered_score=recovered)
        return resolve(task(), "a", request, FIVE, AT + timedelta(hours=hours))

    tasks = [
        done(1, 5),
        done(2, 4),
        done(30, 2),
        done(3, None),
        task(),
        task(created=AT - timedelta(days=2)),
    ]

    metrics = recovery_metrics(tasks, FIVE, AT + timedelta(hours=5))

    assert metrics == {
        "tasks": 6,
        "open": 2,
        "overdue": 1,
        "resolved": 4,
        "within_deadline_share": 0.75,
        "time_to_first_contact": {"median_s": 9000, "p90_s": 108000},
        "recovery_rate": 0.6667,
    }


NO_ANSWER = AttemptRequest(result="no_answer")
REACHED = AttemptRequest(result="reached", note="Talked; a voucher is in the post")


def test_only_the_staff_member_who_claimed_the_task_or_an_admin_records_a_call():
    claimed = claim(task(), "alice", AT)

    with pytest.raises(TransitionError, match="not claimed"):
        record_attempt(task(), "alice", NO_ANSWER, AT)
    with pytest.raises(TransitionError, match="claimed by alice"):
        record_attempt(claimed, "bob", NO_ANSWER, AT)
    assert record_attempt(claimed, "root", NO_ANSWER, AT, admin=True).last_attempt.by == "root"
    assert record_attempt(claimed, "alice", NO_ANSWER, AT).version == claimed.version + 1


def test_a_resolved_task_takes_no_call_attempt():
    done = resolve(
        claim(task(), "alice", AT), "alice", ResolveRequest(outcome="resolved", note="ok"), FIVE, AT
    )

    with pytest.raises(TransitionError, match="resolved"):
        record_attempt(done, "alice", REACHED, AT, admin=True)


def test_the_first_attempt_is_the_first_contact_and_a_retry_is_recorded_once():
    claimed = claim(task(), "alice", AT)
    first = record_attempt(claimed, "alice", NO_ANSWER, AT + timedelta(hours=1))
    retried = record_attempt(first, "alice", NO_ANSWER, AT + timedelta(hours=1, seconds=20))
    again = record_attempt(first, "alice", NO_ANSWER, AT + timedelta(hours=2))
    reached = record_attempt(again, "alice", REACHED, AT + timedelta(hours=2, seconds=5))

    assert first.first_contact_at == AT + timedelta(hours=1)
    assert retried is first
    assert again is not first
    assert again.first_contact_at == AT + timedelta(hours=1)
    assert reached.last_attempt.result == "reached"
    assert reached.first_contact_at == AT + timedelta(hours=1)


def test_time_to_first_contact_runs_to_the_first_attempt_else_to_the_resolution():
    def resolved(hours: float, attempt_hours: float | None = None):
        claimed = claim(task(), "a", AT)
        if attempt_hours is not None:
            claimed = record_attempt(claimed, "a", NO_ANSWER, AT + timedelta(hours=attempt_hours))
        request = ResolveRequest(outcome="resolved", note="n")
        return resolve(claimed, "a", request, FIVE, AT + timedelta(hours=hours))

    attempted_only = record_attempt(claim(task(), "a", AT), "a", NO_ANSWER, AT + timedelta(hours=3))
    tasks = [resolved(10, attempt_hours=1), resolved(2), attempted_only, task()]

    metrics = recovery_metrics(tasks, FIVE, AT + timedelta(hours=12))

    # 1 h (attempt, not the resolution 10 h later), 2 h (resolution), 3 h (an open task
    # whose customer was called); the task nobody called yet has no first contact.
    assert metrics["time_to_first_contact"] == {"median_s": 7200, "p90_s": 10800}


def test_resolving_brings_the_contacts_expiry_forward_never_back():
    created = task()  # kept 30 days from creation by default
    request = ResolveRequest(outcome="resolved", note="n")

    soon = resolve(created, "a", request, FIVE, AT + timedelta(days=1), timedelta(days=7))
    late = resolve(created, "a", request, FIVE, AT + timedelta(days=28), timedelta(days=7))

    assert created.contact_expires_at == AT + timedelta(days=30)
    assert soon.contact_expires_at == AT + timedelta(days=8)
    assert late.contact_expires_at == AT + timedelta(days=30)
    assert contact_is_kept(soon, AT + timedelta(days=8) - timedelta(seconds=1))
    assert not contact_is_kept(soon, AT + timedelta(days=8))


def test_the_history_starts_with_the_creation_and_keeps_events_in_order():
    read = new_event("phone_read", "alice", AT + timedelta(minutes=2))
    claimed = new_event("claimed", "alice", AT + timedelta(minutes=1))
    attempt = new_event("attempt", "alice", AT + timedelta(minutes=3), {"result": "reached"})
    done = new_event(
        "resolved",
        "alice",
        AT + timedelta(minutes=4),
        {"outcome": "resolved", "recovered_score": 4},
        note="Voucher sent",
    )

    shown = [event.view() for event in history(task(), [done, read, attempt, claimed])]

    assert shown == [
        {"at": AT.isoformat(), "by": "system", "event": "created", "detail": {"channel": "kiosk"}},
        {"at": (AT + timedelta(minutes=1)).isoformat(), "by": "alice", "event": "claimed"},
        {"at": (AT + timedelta(minutes=2)).isoformat(), "by": "alice", "event": "phone_read"},
        {
            "at": (AT + timedelta(minutes=3)).isoformat(),
            "by": "alice",
            "event": "attempt",
            "detail": {"result": "reached", "note": None},
        },
        {
            "at": (AT + timedelta(minutes=4)).isoformat(),
            "by": "alice",
            "event": "resolved",
            "detail": {"outcome": "resolved", "recovered_score": 4, "note": "Voucher sent"},
        },
    ]


@pytest.mark.parametrize(
    "body",
    [
        {"result": "busy"},
        {"result": "reached", "note": ""},
        {"result": "reached", "note": "x" * 1001},
        {"result": "reached", "extra": 1},
        {},
    ],
)
def test_a_bad_attempt_is_refused(body):
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        AttemptRequest.model_validate(body)


def test_the_task_link_sits_beside_any_fragment_of_the_staff_url():
    from chalicelib.jobs.flagging import task_link

    assert task_link("https://staff.example.com/", "t1") == "https://staff.example.com/#task=t1"
    assert (
        task_link("http://127.0.0.1:8001/staff/#store=s1", "t1")
        == "http://127.0.0.1:8001/staff/#store=s1&task=t1"
    )


def test_a_notification_quotes_customer_text_as_one_inert_line():
    from chalicelib.jobs.flagging import notification_text
    from tests.conftest import make_store

    forged = task().model_copy(
        update={
            "name": "Bob\nhttps://evil.example/login",
            "ratings": [
                TaskRating(
                    rating_id="r1",
                    channel="sms",
                    score=1,
                    comment="late\r\n\nOVERDUE: call +1 900 555 0100\u2028" + "x" * 400,
                    tapped_at=AT,
                )
            ],
        }
    )

    text = notification_text(make_store(), forged, "callback_task")
    heading, summary, comment, link = text.split("\n")

    assert heading.startswith("Call back “Bob hxxps[:]//evil[.]example/login” (+1******0123)")
    assert summary.startswith("Store store-a: rated 1/5 by sms")
    assert comment.startswith("Comment: “late OVERDUE: call +1 900 555 0100 xxx")
    assert comment.endswith("…”")
    assert len(comment) <= len("Comment: “”") + 160
    assert link.endswith("#task=t1")


def test_a_notification_of_a_task_whose_contact_has_expired_names_nobody():
    from chalicelib.jobs.flagging import notification_text
    from tests.conftest import make_store

    expired = task().model_copy(update={"name": None, "phone_masked": None})

    heading = notification_text(make_store(), expired, "callback_overdue").split("\n")[0]

    assert heading.startswith("OVERDUE: the call to a customer was due")


@pytest.mark.parametrize(
    ("typed", "quoted"),
    [
        ("fine", "“fine”"),
        ("two\nlines", "“two lines”"),
        ("tab\tand\u00a0nbsp", "“tab and nbsp”"),
        ("see www.evil.com", "“see www[.]evil[.]com”"),
        ("ftp://files.example", "“fxp[:]//files[.]example”"),
        ("<http://a.example|click> & <!channel>", "“‹hxxp[:]//a[.]example|click› ＆ ‹!channel›”"),
        ("4321\u202e 8765\u200b", "“4321 8765”"),
        ("wait 3.5 hours, e.g. Monday", "“wait 3.5 hours, e.g. Monday”"),
    ],
)
def test_customer_text_quoting(typed, quoted):
    from chalicelib.domain.text import quote_for_notification

    assert quote_for_notification(typed, 100) == quoted
