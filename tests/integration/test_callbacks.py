"""The callback loop through the Chalice app, on moto and on DynamoDB Local: an unhappy tap
with a phone -> the scheduled run -> a task -> a notification -> claim -> resolve -> metrics."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib.auth import issue_staff_token
from chalicelib.jobs.flagging import follow_up
from chalicelib.notify import topics
from chalicelib.storage import aggregates, callback_requests, ratings
from chalicelib.storage import tasks as task_storage
from tests.conftest import bearer, now
from tests.integration.callers import invited_sms_customer, tasks, unhappy

PHONE = "+14155550123"
STAFF_LINK_PREFIX = "http://127.0.0.1:8001/staff/"  # the default STOREPULSE_STAFF_URL


@pytest.fixture(autouse=True)
def quiet_outbox():
    topics.PUBLISHED.clear()


def test_customer_text_in_a_notification_stays_one_quoted_line_without_links(
    api, kiosk_headers, scheduler
):
    comment = "slow\n\nOVERDUE: call +1 900 555 0100 now\nhttps://evil.example/pay <!here>"
    unhappy(api, kiosk_headers, comment=comment)

    scheduler()

    (notification,) = topics.PUBLISHED
    lines = notification["message"].split("\n")
    assert not any(line.startswith("OVERDUE") for line in lines)
    assert [line for line in lines if "OVERDUE" in line] == [
        "Comment: “slow OVERDUE: call +1 900 555 0100 now hxxps[:]//evil[.]example/pay ‹!here›”"
    ]
    assert "https://" not in notification["message"].replace(STAFF_LINK_PREFIX, "")
    assert "evil.example" not in notification["message"]


def test_an_unhappy_tap_becomes_a_task_that_staff_claim_call_and_resolve(
    api, kiosk_headers, staff_headers, scheduler
):
    rating = unhappy(api, kiosk_headers, comment="Only one till open")

    result = scheduler()
    (task,) = tasks(api, staff_headers)
    claimed = api.http.post(f"/v1/callbacks/{task['task_id']}/claim", headers=staff_headers)
    full = api.http.get(f"/v1/callbacks/{task['task_id']}", headers=staff_headers)
    resolved = api.http.post(
        f"/v1/callbacks/{task['task_id']}/resolve",
        headers=staff_headers,
        body=json.dumps({"outcome": "resolved", "note": "Apologised", "recovered_score": 4}),
    )
    metrics = api.http.get("/v1/stores/store-a/recovery", headers=staff_headers)

    assert result["tasks"] == 1
    assert set(task) == {
        "task_id",
        "store_id",
        "status",
        "priority",
        "created_at",
        "due_at",
        "claimed_by",
        "outcome",
        "contact",
        "ratings",
    }
    assert (task["contact"]["phone_masked"], task["contact"]["name"]) == ("+1******0123", "Ana")
    assert task["priority"] == 1
    assert task["ratings"][0]["rating_id"] == rating["rating_id"]
    assert task["ratings"][0]["comment"] == "Only one till open"
    due = datetime.fromisoformat(task["due_at"]) - datetime.fromisoformat(task["created_at"])
    assert due == timedelta(hours=24)
    (notification,) = topics.PUBLISHED
    assert notification["attributes"] == {
        "store_id": "store-a",
        "kind": "callback_task",
        "audience": "staff",
    }
    assert "Call back “Ana” (+1******0123)" in notification["message"]
    assert PHONE not in notification["message"]
    assert f"#task={task['task_id']}" in notification["message"]
    assert claimed.json_body["status"] == "claimed"
    assert claimed.json_body["claimed_by"] == "alice"
    assert full.json_body["contact"]["phone"] == PHONE
    assert [e["by"] for e in full.json_body["history"] if e["event"] == "phone_read"] == ["alice"]
    assert resolved.json_body["status"] == "resolved"
    assert resolved.json_body["outcome"] == "resolved"
    assert tasks(api, staff_headers, "resolved")[0]["task_id"] == task["task_id"]
    assert metrics.json_body["resolved"] == 1
    assert metrics.json_body["within_deadline_share"] == 1.0
    assert metrics.json_body["recovery_rate"] == 1.0
    assert metrics.json_body["time_to_first_contact"]["median_s"] is not None


def test_a_second_unhappy_answer_joins_the_open_task_and_reruns_flag_nothing_twice(
    api, kiosk_headers, staff_headers, scheduler
):
    unhappy(api, kiosk_headers, score=2)
    scheduler()
    unhappy(api, kiosk_headers, score=1)
    scheduler()
    scheduler()

    (task,) = tasks(api, staff_headers)

    assert [r["score"] for r in task["ratings"]] == [2, 1]
    assert task["priority"] == 1
    assert len(topics.PUBLISHED) == 1


def test_a_run_that_fails_while_flagging_leaves_the_request_to_the_next_run(
    api, kiosk_headers, staff_headers, scheduler
):
    from chalicelib.errors import DependencyUnavailable
    from chalicelib.jobs.aggregate import aggregate
    from chalicelib.jobs.flagging import flag_kiosk_callbacks

    unhappy(api, kiosk_headers)
    arrival_hour = aggregates.watermark()
    later = now() + timedelta(hours=2)  # the arrival hour is final: a clean run passes it

    def outage(rating_ids: list[str]) -> int:
        raise DependencyUnavailable("DynamoDB is throttling", 5)

    with pytest.raises(DependencyUnavailable):
        aggregate(later, flag=outage)
    watermark_after_failure = aggregates.watermark()
    run = aggregate(later, flag=lambda rating_ids: flag_kiosk_callbacks(rating_ids, later))

    assert watermark_after_failure == arrival_hour
    assert run.flagged == 1
    assert len(tasks(api, staff_headers)) == 1
    assert aggregates.watermark() > arrival_hour


def test_the_flagged_rating_keeps_no_phone_number(api, kiosk_headers, scheduler):
    rating = unhappy(api, kiosk_headers)
    scheduler()

    stored = ratings.get_rating(rating["rating_id"])
    assert stored is not None
    assert stored.contact is None


def test_a_task_in_the_wrong_state_gets_409(api, kiosk_headers, staff_headers, scheduler):
    unhappy(api, kiosk_headers)
    scheduler()
    (task,) = tasks(api, staff_headers)
    bob = bearer(issue_staff_token("bob", "staff", ["store-a"], now()))
    path = f"/v1/callbacks/{task['task_id']}"
    resolve = json.dumps({"outcome": "unreachable", "note": "No answer", "recovered_score": None})

    api.http.post(f"{path}/claim", headers=staff_headers)
    taken = api.http.post(f"{path}/claim", headers=bob)
    again = api.http.post(f"{path}/claim", headers=staff_headers)
    first = api.http.post(f"{path}/resolve", headers=bob, body=resolve)
    twice = api.http.post(f"{path}/resolve", headers=bob, body=resolve)

    assert taken.status_code == 409
    assert "claimed by alice" in taken.json_body["error"]["message"]
    assert again.status_code == 200
    assert first.status_code == 200
    assert twice.status_code == 409


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"outcome": "solved", "note": "x"}, "outcome"),
        ({"outcome": "resolved", "note": ""}, "note"),
        ({"outcome": "resolved", "note": "x", "recovered_score": 9}, "recovered_score"),
    ],
)
def test_a_bad_resolution_gets_400(api, kiosk_headers, staff_headers, scheduler, body, field):
    unhappy(api, kiosk_headers)
    scheduler()
    (task,) = tasks(api, staff_headers)

    response = api.http.post(
        f"/v1/callbacks/{task['task_id']}/resolve", headers=staff_headers, body=json.dumps(body)
    )

    assert response.status_code == 400
    assert field in json.dumps(response.json_body)


def test_another_stores_staff_cannot_see_or_touch_the_task(
    api, kiosk_headers, staff_headers, scheduler
):
    unhappy(api, kiosk_headers)
    scheduler()
    (task,) = tasks(api, staff_headers)
    other = bearer(issue_staff_token("bob", "staff", ["store-b"], now()))

    assert api.http.get("/v1/callbacks?store_id=store-a", headers=other).status_code == 403
    assert api.http.get(f"/v1/callbacks/{task['task_id']}", headers=other).status_code == 403
    claim = api.http.post(f"/v1/callbacks/{task['task_id']}/claim", headers=other)
    assert claim.status_code == 403
    assert api.http.get("/v1/stores/store-a/recovery", headers=other).status_code == 403


def test_unclaimed_tasks_are_reminded_then_overdue_ones_escalate_once(
    api, kiosk_headers, staff_headers, scheduler
):
    unhappy(api, kiosk_headers)
    scheduler()
    start = now()

    early = follow_up(start + timedelta(hours=1))
    halfway = follow_up(start + timedelta(hours=12, minutes=1))
    halfway_again = follow_up(start + timedelta(hours=13))
    overdue = follow_up(start + timedelta(hours=24, minutes=5))
    overdue_again = follow_up(start + timedelta(hours=25))

    assert early == {"notified": 0, "reminded": 0, "escalated": 0, "deferred": 0}
    assert halfway["reminded"] == 1
    assert halfway_again["reminded"] == 0
    assert overdue["escalated"] == 1
    assert overdue_again["escalated"] == 0
    kinds = [(n["attributes"]["kind"], n["attributes"]["audience"]) for n in topics.PUBLISHED]
    assert kinds == [
        ("callback_task", "staff"),
        ("callback_reminder", "staff"),
        ("callback_overdue", "manager"),
    ]
    # The reminders read the name and masked number from the task's contact.
    assert all("“Ana” (+1******0123)" in n["message"] for n in topics.PUBLISHED)


def test_an_sms_customer_who_said_yes_gets_a_task(api, store, staff_headers, scheduler):
    phone = invited_sms_customer(api, "+14155550188")
    for text in ("2", "Nobody at the till", "YES"):
        phone.send(text)

    scheduler()
    (task,) = tasks(api, staff_headers)

    assert task["ratings"][0]["channel"] == "sms"
    assert task["ratings"][0]["comment"] == "Nobody at the till"
    assert task["contact"]["phone_masked"] == "+1******0188"
    assert callback_requests.pending(now()) == []


def test_a_store_that_calls_every_sms_detractor_gets_a_task_without_a_yes(
    api, store, staff_headers, scheduler
):
    from chalicelib.storage import stores
    from tests.conftest import make_store

    survey = store.survey.model_copy(update={"callback_every_sms_detractor": True})
    stores.put_store(make_store("store-a", survey=survey))
    phone = invited_sms_customer(api, "+14155550189")

    phone.send("1")
    scheduler()  # flagged with the score: a customer who goes silent is still called
    flagged = tasks(api, staff_headers)
    phone.send("Nobody at the till")
    scheduler()
    (task,) = tasks(api, staff_headers)

    assert len(flagged) == 1
    assert task["task_id"] == flagged[0]["task_id"]
    assert task["ratings"][0]["comment"] == "Nobody at the till"
    assert len(topics.PUBLISHED) == 1


def test_tasks_list_needs_a_store_when_the_credential_has_several(api, store):
    admin = bearer(issue_staff_token("root", "admin", [], now()))

    response = api.http.get("/v1/callbacks", headers=admin)

    assert response.status_code == 400
    assert "store_id" in response.json_body["error"]["message"]


def test_the_deadline_counts_opening_hours_when_the_store_has_them(store):
    from chalicelib.domain.tasks import due_at

    friday_evening = datetime(2026, 11, 20, 23, 0, tzinfo=UTC)  # 18:00 in New York
    weekdays = {day: (9, 17) for day in range(5)}  # Monday-Friday 09-17, closed weekends

    due = due_at(friday_evening, "America/New_York", weekdays, timedelta(hours=10))

    # Nothing left on Friday; Monday 09-17 gives 8 h, Tuesday 09-11 the last 2.
    assert due == datetime(2026, 11, 24, 11, 0, tzinfo=due.tzinfo)


def test_recovery_counts_the_tasks_created_in_the_range(api, store, staff_headers):
    from chalicelib.domain.tasks import TaskRating, new_task

    def task_created(at: datetime, number: str) -> None:
        rating = TaskRating(rating_id=number, channel="kiosk", score=1, tapped_at=at)
        task = new_task(
            number, "store-a", f"key-{number}", PHONE, None, rating, at, at + timedelta(hours=24)
        )
        task_storage.create_task(task, PHONE)

    # The range is read in the store's time zone (New York, UTC-5 in November).
    task_created(datetime(2026, 10, 1, 12, tzinfo=UTC), "t-october")
    task_created(datetime(2026, 11, 1, 2, tzinfo=UTC), "t-october-31-evening")
    task_created(datetime(2026, 11, 10, 12, tzinfo=UTC), "t-november")
    task_created(datetime(2026, 12, 1, 3, tzinfo=UTC), "t-november-30-evening")

    response = api.http.get(
        "/v1/stores/store-a/recovery?from=2026-11-01&to=2026-11-30", headers=staff_headers
    )

    assert response.status_code == 200, response.json_body
    assert response.json_body["tasks"] == 2
    assert response.json_body["open"] == 2


# ---- the store's survey and the form limits, for the staff page ---------------------------


def test_staff_read_their_stores_survey_with_its_version_and_no_other_stores(
    api, store, staff_headers
):
    from chalicelib.domain.survey import DEFAULT_SURVEY

    admin = bearer(issue_staff_token("root", "admin", [], now()))

    ours = api.http.get("/v1/stores/store-a/survey", headers=staff_headers)
    theirs = api.http.get("/v1/stores/store-b/survey", headers=staff_headers)
    as_admin = api.http.get("/v1/stores/store-b/survey", headers=admin)
    unknown = api.http.get("/v1/stores/store-zz/survey", headers=admin)

    assert ours.status_code == 200, ours.json_body
    assert ours.json_body == DEFAULT_SURVEY.model_dump(mode="json") | {"version": 1}
    assert theirs.status_code == 403
    assert theirs.json_body["error"]["code"]
    assert as_admin.status_code == 200
    assert unknown.status_code == 404


def test_a_0_to_10_stores_survey_gives_its_scale(api, store, staff_headers):
    from chalicelib.domain.survey import Scale
    from chalicelib.storage import stores
    from tests.conftest import make_store

    nps = store.survey.model_copy(
        update={"scale": Scale(kind="nps", min=0, max=10), "callback_at_or_below": 6}
    )
    stores.put_store(make_store("store-a", survey=nps))

    survey = api.http.get("/v1/stores/store-a/survey", headers=staff_headers).json_body

    assert survey["scale"] == {"kind": "nps", "min": 0, "max": 10}
    assert survey["reason_labels"]["zh-CN"]["wait_time"] == "等待时间"
    assert survey["version"] == 1


def test_the_form_limits_come_from_the_api(api, store, staff_headers):
    limits = api.http.get("/v1/callbacks/limits", headers=staff_headers)
    anonymous = api.http.get("/v1/callbacks/limits")

    assert limits.status_code == 200
    assert limits.json_body == {"note_max_chars": 1000}
    assert anonymous.status_code == 401


# ---- history, call attempts, retention -----------------------------------------------------

TASK_SHAPE = {
    "task_id",
    "store_id",
    "status",
    "priority",
    "created_at",
    "due_at",
    "claimed_by",
    "outcome",
    "contact",
    "ratings",
}


@pytest.fixture
def clock(monkeypatch) -> Any:
    """Sets the staff API's clock: `clock(moment)`, and the next requests happen then."""

    def set_to(moment: datetime) -> None:
        from chalicelib.api import callback_routes

        monkeypatch.setattr(callback_routes, "now", lambda: moment)

    return set_to


def post(api, path: str, headers: dict[str, str], body: dict[str, Any] | None = None) -> Any:
    return api.http.post(path, headers=headers, body=json.dumps(body) if body else b"")


def flagged_task(api, kiosk_headers, staff_headers, scheduler) -> dict[str, Any]:
    unhappy(api, kiosk_headers, comment="Only one till open")
    scheduler()
    (task,) = tasks(api, staff_headers)
    return task


def raw_contact(task_id: str) -> dict[str, Any] | None:
    """The contact item as stored, to show what TTL has not removed yet."""
    return task_storage.stored_contact(task_id)


def test_the_call_view_shows_who_did_what_oldest_first_and_the_list_does_not(
    api, kiosk_headers, staff_headers, scheduler
):
    task = flagged_task(api, kiosk_headers, staff_headers, scheduler)
    path = f"/v1/callbacks/{task['task_id']}"

    post(api, f"{path}/claim", staff_headers)
    post(api, f"{path}/claim", staff_headers)  # claiming twice records nothing
    api.http.get(path, headers=staff_headers)
    voicemail = {"result": "no_answer", "note": "Voicemail, left a message"}
    first = post(api, f"{path}/attempts", staff_headers, voicemail)
    retried = post(api, f"{path}/attempts", staff_headers, voicemail)  # a lost response
    post(api, f"{path}/attempts", staff_headers, {"result": "reached", "note": None})
    body = {"outcome": "resolved", "note": "Apologised", "recovered_score": 4}
    post(api, f"{path}/resolve", staff_headers, body)
    full = api.http.get(path, headers=staff_headers).json_body
    (listed,) = tasks(api, staff_headers, "resolved")

    assert first.status_code == 200, first.json_body
    assert set(first.json_body) == TASK_SHAPE
    assert retried.json_body == first.json_body
    history = full["history"]
    assert [(e["event"], e["by"]) for e in history] == [
        ("created", "system"),
        ("claimed", "alice"),
        ("phone_read", "alice"),
        ("attempt", "alice"),
        ("attempt", "alice"),
        ("resolved", "alice"),
        ("phone_read", "alice"),
    ]
    assert [e["at"] for e in history] == sorted(e["at"] for e in history)
    assert history[0]["at"] == task["created_at"]
    assert history[3]["detail"] == {"result": "no_answer", "note": "Voicemail, left a message"}
    assert history[4]["detail"] == {"result": "reached", "note": None}
    assert history[5]["detail"] == {
        "outcome": "resolved",
        "recovered_score": 4,
        "note": "Apologised",
    }
    assert "detail" not in history[1]
    assert set(listed) == TASK_SHAPE  # the list keeps its shape: no history
    assert set(full) == TASK_SHAPE | {"history"}


def test_only_the_claimer_or_an_admin_records_a_call_and_not_after_the_resolution(
    api, kiosk_headers, staff_headers, scheduler
):
    task = flagged_task(api, kiosk_headers, staff_headers, scheduler)
    path = f"/v1/callbacks/{task['task_id']}/attempts"
    bob = bearer(issue_staff_token("bob", "staff", ["store-a"], now()))
    admin = bearer(issue_staff_token("root", "admin", [], now()))
    other_store = bearer(issue_staff_token("cy", "staff", ["store-b"], now()))
    reached = {"result": "reached", "note": None}

    unclaimed = post(api, path, staff_headers, reached)
    post(api, f"/v1/callbacks/{task['task_id']}/claim", staff_headers)
    not_theirs = post(api, path, bob, reached)
    by_admin = post(api, path, admin, reached)
    elsewhere = post(api, path, other_store, reached)
    missing = post(api, "/v1/callbacks/no-such-task/attempts", staff_headers, reached)
    resolve = {"outcome": "resolved", "note": "Sorted", "recovered_score": None}
    post(api, f"/v1/callbacks/{task['task_id']}/resolve", staff_headers, resolve)
    after = post(api, path, staff_headers, reached)

    assert unclaimed.status_code == 409
    assert "claim it" in unclaimed.json_body["error"]["message"]
    assert not_theirs.status_code == 409
    assert "claimed by alice" in not_theirs.json_body["error"]["message"]
    assert by_admin.status_code == 200, by_admin.json_body
    assert elsewhere.status_code == 403
    assert missing.status_code == 404
    assert after.status_code == 409
    attempts = [
        e
        for e in api.http.get(f"/v1/callbacks/{task['task_id']}", headers=admin).json_body[
            "history"
        ]
        if e["event"] == "attempt"
    ]
    assert [e["by"] for e in attempts] == ["root"]


@pytest.mark.parametrize(
    "body",
    [{"result": "busy"}, {"result": "reached", "note": ""}, {"note": "x"}, {"result": 1}],
)
def test_a_bad_attempt_gets_400_and_records_nothing(
    api, kiosk_headers, staff_headers, scheduler, body
):
    task = flagged_task(api, kiosk_headers, staff_headers, scheduler)
    post(api, f"/v1/callbacks/{task['task_id']}/claim", staff_headers)

    response = post(api, f"/v1/callbacks/{task['task_id']}/attempts", staff_headers, body)
    full = api.http.get(f"/v1/callbacks/{task['task_id']}", headers=staff_headers).json_body

    assert response.status_code == 400
    assert response.json_body["error"]["details"]
    assert "attempt" not in [e["event"] for e in full["history"]]


def test_time_to_first_contact_runs_to_the_first_attempt(
    api, kiosk_headers, staff_headers, scheduler, clock
):
    task = flagged_task(api, kiosk_headers, staff_headers, scheduler)
    path = f"/v1/callbacks/{task['task_id']}"
    created = datetime.fromisoformat(task["created_at"])

    clock(created + timedelta(minutes=10))
    post(api, f"{path}/claim", staff_headers)
    clock(created + timedelta(hours=1))
    post(api, f"{path}/attempts", staff_headers, {"result": "no_answer", "note": None})
    clock(created + timedelta(hours=3))
    post(api, f"{path}/attempts", staff_headers, {"result": "reached", "note": None})
    clock(created + timedelta(hours=5))
    body = {"outcome": "resolved", "note": "Sorted", "recovered_score": 5}
    post(api, f"{path}/resolve", staff_headers, body)
    metrics = api.http.get("/v1/stores/store-a/recovery", headers=staff_headers).json_body

    assert metrics["time_to_first_contact"] == {"median_s": 3600, "p90_s": 3600}


def test_a_resolved_tasks_contact_and_words_expire_and_reads_ignore_what_ttl_left(
    api, kiosk_headers, staff_headers, scheduler, clock
):
    task = flagged_task(api, kiosk_headers, staff_headers, scheduler)
    path = f"/v1/callbacks/{task['task_id']}"
    created = datetime.fromisoformat(task["created_at"])
    resolved_at = created + timedelta(hours=2)

    clock(created + timedelta(hours=1))
    post(api, f"{path}/claim", staff_headers)
    post(api, f"{path}/attempts", staff_headers, {"result": "no_answer", "note": "Voicemail"})
    clock(resolved_at)
    body = {"outcome": "resolved", "note": "Ana was happy with a refund", "recovered_score": 4}
    post(api, f"{path}/resolve", staff_headers, body)
    clock(resolved_at + timedelta(days=7) - timedelta(minutes=1))
    before = api.http.get(path, headers=staff_headers).json_body
    clock(resolved_at + timedelta(days=7, minutes=1))
    after = api.http.get(path, headers=staff_headers).json_body
    (listed,) = tasks(api, staff_headers, "resolved")
    metrics = api.http.get("/v1/stores/store-a/recovery", headers=staff_headers).json_body

    contact = raw_contact(task["task_id"])
    assert contact is not None  # still there (TTL deletes lazily) ...
    assert contact["expires_at"] == int((resolved_at + timedelta(days=7)).timestamp())
    assert before["contact"]["phone"] == PHONE
    assert before["contact"]["name"] == "Ana"
    assert before["ratings"][0]["comment"] == "Only one till open"
    assert before["history"][-2]["detail"]["note"] == "Ana was happy with a refund"
    # ... but every read ignores it once expired.
    for shown in (after, listed):
        assert (shown["contact"]["phone_masked"], shown["contact"]["name"]) == (None, None)
        assert "phone" not in shown["contact"]
        assert shown["ratings"][0]["comment"] is None
        assert PHONE[-4:] not in json.dumps(shown)
        assert "Only one till open" not in json.dumps(shown)
    assert [e["detail"]["note"] for e in after["history"] if "note" in e.get("detail", {})] == [
        None,
        None,
    ]
    # No number shown, so no read recorded.
    assert [e["event"] for e in after["history"]] == [e["event"] for e in before["history"]]
    # What the figures need stays: the scores, reasons, outcome, times, recovered score.
    assert after["ratings"][0]["score"] == 1
    assert after["ratings"][0]["reasons"] == ["wait_time"]
    assert after["outcome"] == "resolved"
    assert metrics["resolved"] == 1
    assert metrics["recovery_rate"] == 1.0
    assert metrics["time_to_first_contact"]["median_s"] == 3600


def test_the_task_item_itself_holds_no_name_comment_note_or_number(
    api, kiosk_headers, staff_headers, scheduler
):
    task = flagged_task(api, kiosk_headers, staff_headers, scheduler)
    path = f"/v1/callbacks/{task['task_id']}"
    post(api, f"{path}/claim", staff_headers)
    body = {"outcome": "resolved", "note": "Refund for Ana", "recovered_score": None}
    post(api, f"{path}/resolve", staff_headers, body)

    item = task_storage.stored_task(task["task_id"])
    assert item is not None
    stored = json.dumps(item, default=str)

    assert "Ana" not in stored
    assert "Only one till open" not in stored
    assert "Refund" not in stored
    assert PHONE[-4:] not in stored


def test_an_open_tasks_contact_expires_after_the_phone_retention(
    api, kiosk_headers, staff_headers, scheduler, clock
):
    task = flagged_task(api, kiosk_headers, staff_headers, scheduler)
    created = datetime.fromisoformat(task["created_at"])

    clock(created + timedelta(days=30, minutes=1))
    late = api.http.get(f"/v1/callbacks/{task['task_id']}", headers=staff_headers).json_body

    assert raw_contact(task["task_id"]) is not None
    assert "phone" not in late["contact"]
    assert late["contact"]["name"] is None
    assert late["ratings"][0]["comment"] is None
    assert [e["event"] for e in late["history"]] == ["created"]  # no number was read


def test_how_long_a_resolved_contact_is_kept_is_a_setting(
    api, kiosk_headers, staff_headers, scheduler, clock, monkeypatch
):
    from chalicelib import config

    monkeypatch.setenv("STOREPULSE_RESOLVED_CONTACT_RETENTION_DAYS", "1")
    config.settings.cache_clear()
    task = flagged_task(api, kiosk_headers, staff_headers, scheduler)
    resolved_at = datetime.fromisoformat(task["created_at"]) + timedelta(hours=1)

    clock(resolved_at)
    body = {"outcome": "declined", "note": "Did not want to talk", "recovered_score": None}
    post(api, f"/v1/callbacks/{task['task_id']}/resolve", staff_headers, body)

    contact = raw_contact(task["task_id"])
    assert contact is not None
    assert contact["expires_at"] == int((resolved_at + timedelta(days=1)).timestamp())
