"""One visit, counted once: a visit (a store system's `visit_ref`) answered on two channels
counts its first answer, the other kept and marked `same_visit`; an SMS invitation for a
visit already answered is suppressed (`already_answered`), when asked for and at its
scheduled time; a kiosk callback may ask for the visit's number instead of typing one.
On moto and on DynamoDB Local, through the Chalice app."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from chalicelib.auth import issue_integration_token
from chalicelib.domain.invitations import InvitationRequest
from chalicelib.domain.ratings import Rating
from chalicelib.flows.sms_survey import invite
from chalicelib.jobs import sms_schedule
from chalicelib.notify import sms_sender
from chalicelib.storage import ratings, sms_state, stores, visits
from tests.conftest import bearer, kiosk_rating, make_store, now, rating_batch
from tests.integration.callers import Phone, invite_by_api, post, tasks
from tests.integration.factories import stored_ratings

VISIT = "R-2026-000417"


@pytest.fixture
def integration(store) -> dict[str, str]:
    return bearer(issue_integration_token("pos", ["store-a"], now()))


def figures(api: Any, headers: dict[str, str], store: Any) -> dict[str, Any]:
    """The store's bucket of this hour."""
    local = now().astimezone(ZoneInfo(store.timezone)).replace(minute=0, second=0, microsecond=0)
    period = f"from={local:%Y-%m-%dT%H:%M}&to={local + timedelta(hours=1):%Y-%m-%dT%H:%M}"
    response = api.http.get(
        f"/v1/stores/store-a/satisfaction?granularity=hour&{period}", headers=headers
    )
    assert response.status_code == 200, response.json_body
    (bucket,) = response.json_body["buckets"]
    return dict(bucket)


def test_a_visit_answered_on_the_kiosk_and_by_sms_counts_once(
    api, store, kiosk_headers, staff_headers, integration, scheduler
):
    invited = invite_by_api(api, integration, "+14155550171", visit_ref=VISIT)
    assert invited.json_body["status"] == "sent", invited.json_body
    kiosk = kiosk_rating(score=5, visit_ref=VISIT)

    answered = post(api, kiosk_headers, rating_batch(kiosk))
    resent = post(api, kiosk_headers, rating_batch(kiosk))  # the kiosk's retry
    Phone(api, "+14155550171").send("2")  # the same customer, by SMS, later
    scheduler()

    assert answered.json_body["results"][0]["status"] == "stored"
    assert resent.json_body["results"][0]["status"] == "duplicate"
    by_channel = {rating["channel"]: rating for rating in stored_ratings()}
    assert set(by_channel) == {"kiosk", "sms"}  # both kept
    assert (by_channel["kiosk"]["same_visit"], by_channel["sms"]["same_visit"]) == (False, True)
    assert by_channel["sms"]["visit_ref"] == VISIT
    bucket = figures(api, staff_headers, store)
    assert (bucket["responses"], bucket["filtered"], bucket["mean"]) == (1, 1, 5.0)
    assert bucket["channels"]["kiosk"]["responses"] == 1
    assert bucket["channels"]["sms"]["responses"] == 0


def test_the_first_answer_counts_when_sms_came_first(
    api, store, kiosk_headers, staff_headers, integration, scheduler
):
    invite_by_api(api, integration, "+14155550172", visit_ref=VISIT)
    Phone(api, "+14155550172").send("4")

    late = post(api, kiosk_headers, rating_batch(kiosk_rating(score=1, visit_ref=VISIT)))
    other_visit = post(api, kiosk_headers, rating_batch(kiosk_rating(score=3, visit_ref="R-9")))
    scheduler()

    assert late.json_body["results"][0]["status"] == "stored"  # kept, not counted
    assert other_visit.json_body["results"][0]["status"] == "stored"
    bucket = figures(api, staff_headers, store)
    assert (bucket["responses"], bucket["filtered"]) == (2, 1)
    assert {score: n for score, n in bucket["distribution"].items() if n} == {"4": 1, "3": 1}
    assert bucket["channels"]["sms"]["responses"] == 1


def test_two_answers_of_a_visit_in_one_batch_count_once(api, store, kiosk_headers):
    first, second = kiosk_rating(score=2, visit_ref=VISIT), kiosk_rating(score=3, visit_ref=VISIT)

    response = post(api, kiosk_headers, rating_batch(first, second))

    assert [r["status"] for r in response.json_body["results"]] == ["stored", "stored"]
    marks = sorted(rating["same_visit"] for rating in stored_ratings())
    assert marks == [False, True]  # the writes race: exactly one holds the visit


def test_no_sms_survey_for_a_visit_already_answered(api, store, kiosk_headers, integration):
    post(api, kiosk_headers, rating_batch(kiosk_rating(score=4, visit_ref=VISIT)))
    sms_sender.OUTBOX.clear()

    invited = invite_by_api(api, integration, "+14155550173", visit_ref=VISIT)
    again = invite_by_api(api, integration, "+14155550173", visit_ref=VISIT)
    another_visit = invite_by_api(api, integration, "+14155550174", visit_ref="R-other")

    assert invited.status_code == 202
    assert invited.json_body["status"] == "suppressed"
    assert invited.json_body["reason"] == "already_answered"
    assert again.json_body == invited.json_body
    assert another_visit.json_body["status"] == "sent"
    assert [message["attributes"]["to"] for message in sms_sender.OUTBOX] == ["+14155550174"]


def test_a_retried_invitation_keeps_its_answer_after_the_customer_replied(api, store, integration):
    first = invite_by_api(api, integration, "+14155550175", visit_ref=VISIT)
    Phone(api, "+14155550175").send("5")  # the visit is answered by this invitation's SMS

    retry = invite_by_api(api, integration, "+14155550175", visit_ref=VISIT)

    assert first.json_body["status"] == "sent"
    assert retry.json_body == first.json_body


def test_a_scheduled_invitation_is_held_back_when_the_visit_was_answered_meanwhile(storage):
    night = datetime(2026, 11, 25, 7, 0, tzinfo=UTC)  # 23:00 in Los Angeles: window closed
    store = make_store("store-q", timezone="America/Los_Angeles", sms_window=None)
    stores.put_store(store)
    request = InvitationRequest(phone="+14155550176", store_id="store-q", visit_ref=VISIT)
    scheduled = invite(request, store, night)
    assert scheduled.status == "scheduled"
    tapped = night + timedelta(minutes=2)
    rating = Rating(
        rating_id="a3c5e0f4-1d2b-4c6a-9e8f-7a6b5c4d3e21",
        store_id="store-q",
        channel="kiosk",
        source_id="k-1",
        survey_id=store.survey.survey_id,
        score=5,
        tapped_at=tapped,
        received_at=tapped,
        visit_ref=VISIT,
    )
    assert ratings.put_rating(visits.counted(rating))
    sms_sender.OUTBOX.clear()

    sent = sms_schedule.send_due_invitations(night + timedelta(hours=9, minutes=1))

    held = sms_state.get_invitation(scheduled.invitation_id)
    assert sent == 0
    assert sms_sender.OUTBOX == []
    assert held is not None
    assert (held.status, held.reason) == ("suppressed", "already_answered")


def test_a_kiosk_callback_may_use_the_number_the_store_system_gave_for_the_visit(
    api, store, kiosk_headers, staff_headers, integration, scheduler
):
    invite_by_api(api, integration, "+14155550177", visit_ref=VISIT)
    callback = {"consent": True, "name": "Ana"}  # no number: the visit's
    rating = kiosk_rating(score=1, visit_ref=VISIT, callback=callback)

    response = post(api, kiosk_headers, rating_batch(rating))
    scheduler()

    assert response.json_body["results"][0]["status"] == "stored"
    (task,) = tasks(api, staff_headers)
    assert task["contact"]["phone_masked"] == "+1******0177"
    assert task["contact"]["name"] == "Ana"
    detail = api.http.get(f"/v1/callbacks/{task['task_id']}", headers=staff_headers)
    assert detail.json_body["contact"]["phone"] == "+14155550177"


def test_a_callback_without_a_number_needs_a_visit_and_a_number_on_file(
    api, store, kiosk_headers, staff_headers, scheduler
):
    no_visit = kiosk_rating(score=1, callback={"consent": True})
    unknown_visit = kiosk_rating(score=1, visit_ref="R-never-invited", callback={"consent": True})

    refused = post(api, kiosk_headers, rating_batch(no_visit))
    kept = post(api, kiosk_headers, rating_batch(unknown_visit))
    scheduler()

    (result,) = refused.json_body["results"]
    assert result["status"] == "rejected"
    assert "callback.phone is required" in result["error"]["message"]
    assert kept.json_body["results"][0]["status"] == "stored"  # the score is not lost
    assert tasks(api, staff_headers) == []  # no number to call
    stored = ratings.get_rating(unknown_visit["rating_id"])
    assert stored is not None
    assert stored.contact is None  # the request is settled, not left pending


@pytest.mark.parametrize(
    "visit_ref", ["", "x" * 101, "line\nbreak", 17], ids=["empty", "long", "control", "number"]
)
def test_a_bad_visit_ref_rejects_the_rating_and_stores_nothing(
    api, store, kiosk_headers, visit_ref
):
    response = post(api, kiosk_headers, rating_batch(kiosk_rating(visit_ref=visit_ref)))

    (result,) = response.json_body["results"]
    assert result["status"] == "rejected"
    assert "visit_ref" in result["error"]["message"]
    assert stored_ratings() == []


def test_the_link_survey_may_not_ask_for_the_visits_number(api, store, integration):
    invite_by_api(api, integration, "+14155550178", visit_ref=VISIT)
    rating = kiosk_rating(score=1, visit_ref=VISIT, callback={"consent": True})
    body = json.dumps(rating_batch(rating) | {"device_id": "phone-0001"})

    response = api.http.post(
        "/v1/link/store-a/ratings", headers={"Content-Type": "application/json"}, body=body
    )

    (result,) = response.json_body["results"]
    assert result["status"] == "rejected"
    assert "callback.phone is required on the link survey" in result["error"]["message"]
    assert stored_ratings() == []
