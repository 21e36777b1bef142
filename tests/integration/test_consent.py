"""Consent records (issue 11, point 3), on moto and on DynamoDB Local: one per phone and
purpose, keyed by the phone's HMAC, saying when, through which channel and with which text
consent was given, and when it was withdrawn; the kiosk shows the versioned text, and a
callback task shows that consent exists."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib.domain.consent import CONSENT_TEXTS, KEPT_AFTER_PURPOSE
from chalicelib.domain.invitations import InvitationRequest
from chalicelib.flows.sms_survey import handle_inbound_sms, invite
from chalicelib.jobs.flagging import flag_sms_callbacks
from chalicelib.jobs.sms_schedule import send_due_invitations
from chalicelib.notify import sms_sender, topics
from chalicelib.storage import consents, ratings, sms_state, stores
from tests.conftest import kiosk_rating, make_store, now, rating_batch

PHONE = "+14155550123"
KIOSK_TEXT = {
    "en": "Yes, the store may call me about my visit. My number is used only for this call.",
    "zh-CN": "同意门店就本次购物致电给我。号码仅用于此次回电。",
}


@pytest.fixture(autouse=True)
def quiet_outboxes():
    topics.PUBLISHED.clear()
    sms_sender.OUTBOX.clear()


def post_callback(api, kiosk_headers, **callback_fields) -> Any:
    callback = {"phone": PHONE, "name": "Ana", "consent": True} | callback_fields
    rating = kiosk_rating(score=1, callback=callback, locale="zh-CN")
    response = api.http.post(
        "/v1/kiosk/ratings", headers=kiosk_headers, body=json.dumps(rating_batch(rating))
    )
    return rating, response.json_body["results"][0]


def consent_item(phone: str, purpose: str) -> dict[str, Any] | None:
    return consents.stored_consent(sms_state.key_of(phone), purpose)


def open_tasks(api, staff_headers) -> list[dict[str, Any]]:
    response = api.http.get("/v1/callbacks?store_id=store-a&status=open", headers=staff_headers)
    assert response.status_code == 200, response.json_body
    return list(response.json_body["tasks"])


def test_the_kiosk_survey_carries_the_versioned_consent_text(api, kiosk_headers, staff_headers):
    survey = api.http.get("/v1/kiosk/survey", headers=kiosk_headers).json_body
    code = api.http.post("/v1/stores/store-a/kiosks", headers=staff_headers, body="").json_body
    paired = api.http.post(
        "/v1/kiosks/pair",
        headers={"Content-Type": "application/json"},
        body=json.dumps({"pairing_code": code["pairing_code"]}),
    ).json_body

    assert survey["consent"] == {"callback": {"version": "kiosk-1", "text": KIOSK_TEXT}}
    assert paired["survey"]["consent"] == survey["consent"]
    assert survey["scale"] == {"kind": "smiley", "min": 1, "max": 5}  # the rest as it was


@pytest.mark.parametrize("version", ["kiosk-0", "sms-1", "", "kiosk-1 "])
def test_a_kiosk_callback_naming_an_unknown_consent_text_is_refused(api, kiosk_headers, version):
    _, result = post_callback(api, kiosk_headers, consent_version=version)

    assert result["status"] == "rejected"
    assert result["error"]["details"][0]["field"] == "callback.consent_version"
    assert "kiosk-1" in result["error"]["details"][0]["message"]


def test_a_kiosk_callback_with_a_number_for_a_version_is_refused(api, kiosk_headers):
    _, result = post_callback(api, kiosk_headers, consent_version=1)

    assert result["status"] == "rejected"
    assert result["error"]["details"][0]["field"] == "callback.consent_version"


def test_a_kiosk_callback_leaves_a_consent_record_when_its_task_is_made(
    api, kiosk_headers, staff_headers, scheduler
):
    rating, result = post_callback(api, kiosk_headers, consent_version="kiosk-1")
    before_the_run = consent_item(PHONE, "callback")  # the ingest path writes no more

    scheduler()

    assert result["status"] == "stored"
    assert before_the_run is None
    item = consent_item(PHONE, "callback")
    assert item is not None
    assert PHONE not in json.dumps(item, default=str)  # keyed and held by the HMAC only
    stored = ratings.get_rating(rating["rating_id"])
    assert stored is not None
    tapped_at = stored.tapped_at  # the tap on the server's clock (skew corrected)
    record = consents.get_consent(sms_state.key_of(PHONE), "callback", now())
    assert record is not None
    assert (record.channel, record.version, record.locale, record.source) == (
        "kiosk",
        "kiosk-1",
        "zh-CN",
        rating["rating_id"],
    )
    assert record.given_at == tapped_at
    assert record.withdrawn_at is None
    retention = timedelta(days=30)  # STOREPULSE_PHONE_RETENTION_DAYS: the callback's purpose
    assert int(item["expires_at"]) == int((tapped_at + retention + KEPT_AFTER_PURPOSE).timestamp())
    (task,) = open_tasks(api, staff_headers)
    assert task["contact"]["consent"] == {
        "given_at": tapped_at.astimezone(UTC).isoformat(),
        "channel": "kiosk",
        "version": "kiosk-1",
    }
    full = api.http.get(f"/v1/callbacks/{task['task_id']}", headers=staff_headers).json_body
    assert full["contact"]["consent"] == task["contact"]["consent"]


def test_a_kiosk_callback_without_a_version_was_given_with_the_current_text(
    api, kiosk_headers, scheduler
):
    post_callback(api, kiosk_headers)

    scheduler()

    record = consents.get_consent(sms_state.key_of(PHONE), "callback", now())
    assert record is not None
    assert record.version == "kiosk-1"


def sms_customer(store_id: str = "store-a", locale: str = "en") -> str:
    store = stores.get_store(store_id)
    assert store is not None
    request = InvitationRequest(phone=PHONE, store_id=store_id, locale=locale)
    invitation = invite(request, store, now())
    assert invitation.status == "sent"
    return invitation.invitation_id


def test_an_sms_invitation_sent_records_the_store_systems_consent(store):
    at = now()
    invitation_id = sms_customer(locale="zh-CN")

    record = consents.get_consent(sms_state.key_of(PHONE), "sms_survey", now())

    assert record is not None
    assert (record.channel, record.version, record.locale, record.source) == (
        "store_system",
        "invitation-1",
        "zh-CN",
        invitation_id,
    )
    assert record.given_at >= at - timedelta(seconds=1)
    text = CONSENT_TEXTS["sms_survey"][record.version]["zh-CN"]
    sent = sms_sender.OUTBOX[-1]["message"]
    assert sent == text.format(store="Store store-a", min=1, max=5)


def test_a_scheduled_invitation_records_consent_when_it_is_sent(storage):
    stores.put_store(make_store("store-q", timezone="America/Los_Angeles", sms_window=None))
    store = stores.get_store("store-q")
    assert store is not None
    night = datetime(2026, 11, 25, 7, 0, tzinfo=UTC)  # 23:00 in Los Angeles
    invite(InvitationRequest(phone=PHONE, store_id="store-q"), store, night)
    waiting = consents.get_consent(sms_state.key_of(PHONE), "sms_survey", now())

    send_due_invitations(night + timedelta(hours=9, minutes=1))

    record = consents.get_consent(sms_state.key_of(PHONE), "sms_survey", now())
    assert waiting is None  # nothing was sent yet
    assert record is not None
    assert record.given_at == night + timedelta(hours=9, minutes=1)
    assert record.channel == "store_system"


def test_an_sms_yes_to_the_call_offer_is_consent_to_be_called(api, staff_headers, store):
    sms_customer(locale="zh-CN")
    at = now()
    handle_inbound_sms(PHONE, "2", "twilio-SM1", at)
    handle_inbound_sms(PHONE, "排队太久", "twilio-SM2", at)
    offer = sms_state.get_conversation(sms_state.key_of(PHONE), at)
    handle_inbound_sms(PHONE, "是", "twilio-SM3", at + timedelta(seconds=5))

    flag_sms_callbacks(now())

    record = consents.get_consent(sms_state.key_of(PHONE), "callback", now())
    assert offer is not None
    assert offer.last_reply == CONSENT_TEXTS["callback"]["sms-1"]["zh-CN"]  # the text shown
    assert record is not None
    assert (record.channel, record.version, record.locale, record.source) == (
        "sms",
        "sms-1",
        "zh-CN",
        "twilio-SM3",
    )
    assert record.given_at == at + timedelta(seconds=5)
    (task,) = open_tasks(api, staff_headers)
    assert task["contact"]["consent"] == {
        "given_at": record.given_at.isoformat(),
        "channel": "sms",
        "version": "sms-1",
    }


def test_no_to_the_call_offer_records_no_consent(store):
    sms_customer()
    at = now()
    for number, text in enumerate(["1", "rude", "no"]):
        handle_inbound_sms(PHONE, text, f"twilio-SM{number}", at)

    assert consents.get_consent(sms_state.key_of(PHONE), "callback", now()) is None


def test_a_task_for_a_customer_who_never_consented_shows_none(api, staff_headers, storage):
    survey = make_store().survey.model_copy(update={"callback_every_sms_detractor": True})
    stores.put_store(make_store("store-a", survey=survey))
    sms_customer()
    handle_inbound_sms(PHONE, "1", "twilio-SM1", now())

    flag_sms_callbacks(now())

    (task,) = open_tasks(api, staff_headers)
    assert task["contact"]["consent"] is None


def test_stop_withdraws_the_sms_survey_consent_and_keeps_the_callback_consent(
    api, kiosk_headers, scheduler
):
    post_callback(api, kiosk_headers)
    scheduler()
    sms_customer()
    stopped_at = now()

    handle_inbound_sms(PHONE, "STOP", "twilio-SMstop", stopped_at)
    handle_inbound_sms(PHONE, "STOP", "twilio-SMstop2", stopped_at + timedelta(minutes=1))

    survey = consents.get_consent(sms_state.key_of(PHONE), "sms_survey", now())
    callback = consents.get_consent(sms_state.key_of(PHONE), "callback", now())
    assert survey is not None
    assert survey.withdrawn_at == stopped_at  # the first STOP's time
    assert survey.channel == "store_system"  # what was given stays on the record
    item = consent_item(PHONE, "sms_survey")
    assert item is not None
    assert int(item["expires_at"]) == int((stopped_at + KEPT_AFTER_PURPOSE).timestamp())
    assert callback is not None
    assert callback.withdrawn_at is None  # a call is not a text: it stays unless withdrawn


def test_stop_from_a_number_never_invited_records_the_withdrawal(store):
    stopped_at = now()

    handle_inbound_sms(PHONE, "STOP", "twilio-SMstop", stopped_at)

    item = consent_item(PHONE, "sms_survey")
    assert item is not None
    assert item["withdrawn_at"] == stopped_at.astimezone(UTC).isoformat(timespec="milliseconds")
    assert consents.get_consent(sms_state.key_of(PHONE), "sms_survey", now()) is None  # never given
