"""SMS surveys end to end through the Chalice app: invitations, the Twilio webhook (signed by
Twilio's own validator), AWS End User Messaging via SNS, opt-outs and the schedule."""

from __future__ import annotations

import dataclasses
import io
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from twilio.request_validator import RequestValidator

from chalicelib.api.sms_routes import INBOUND_SMS_TOPIC
from chalicelib.auth import issue_integration_token, issue_staff_token
from chalicelib.domain.invitations import InvitationRequest, SurveyHistory
from chalicelib.flows.sms_survey import invite
from chalicelib.jobs.aggregate import floor_hour
from chalicelib.jobs.sms_schedule import send_due_invitations
from chalicelib.notify import sms_sender
from chalicelib.observability import logger
from chalicelib.storage import callback_requests, ratings, sms_state, stores
from tests.conftest import bearer, make_store, now
from tests.integration.callers import PHONE, WEBHOOK, Phone, invite_by_api


@pytest.fixture(autouse=True)
def empty_outbox():
    sms_sender.OUTBOX.clear()


@pytest.fixture
def integration(store):
    return bearer(issue_integration_token("pos-system", [store.store_id], now()))


def texts_to(phone: str) -> list[str]:
    return [m["message"] for m in sms_sender.OUTBOX if m["attributes"]["to"] == phone]


def reply_of(response: Any) -> str:
    body = response.body.decode() if isinstance(response.body, bytes) else response.body
    return body.split("<Message>")[1].split("</Message>")[0] if "<Message>" in body else ""


def test_an_unhappy_sms_customer_leaves_a_rating_and_asks_for_a_call(api, integration, store):
    invited = invite_by_api(api, integration, visit_ref="receipt-1")
    phone = Phone(api)

    asked_reason = phone.send(" 2 ")
    asked_call = phone.send("The queue was very long")
    thanked = phone.send("yes please")

    assert invited.status_code == 202
    assert invited.json_body["status"] == "sent"
    assert set(invited.json_body) == {"invitation_id", "status"}
    invitation_text = texts_to(PHONE)[0]
    assert "Reply 1-5" in invitation_text
    assert "STOP" in invitation_text
    assert reply_of(asked_reason) == "Sorry to hear that. What went wrong?"
    assert asked_reason.headers["Content-Type"] == "text/xml"
    assert "call you" in reply_of(asked_call)
    assert reply_of(thanked) == "Thank you. The store manager will call you soon."
    rating = ratings.get_rating(f"sms-twilio-SM{PHONE[-4:]}0001")
    assert rating is not None
    assert (rating.channel, rating.score, rating.store_id) == ("sms", 2, "store-a")
    request = stored_callback_requests()
    assert len(request) == 1
    assert request[0]["phone"] == PHONE
    assert request[0]["comment"] == "The queue was very long"
    assert request[0]["rating_id"] == rating.rating_id


def stored_callback_requests() -> list[dict[str, Any]]:
    return [dataclasses.asdict(request) for request in callback_requests.stored_requests()]


def test_a_twilio_retry_is_answered_again_and_counted_once(api, integration, store):
    invite_by_api(api, integration)
    phone = Phone(api)

    first = phone.send("1", sid="SMretry1")
    retry = phone.send("1", sid="SMretry1")
    reason = phone.send("rude staff")

    assert reply_of(first) == reply_of(retry) == "Sorry to hear that. What went wrong?"
    assert "YES or NO" in reply_of(reason)
    assert ratings.get_rating("sms-twilio-SMretry1") is not None


def test_replayed_earlier_messages_change_nothing_and_the_real_yes_still_counts(
    api, integration, store
):
    invite_by_api(api, integration)
    phone = Phone(api)
    phone.send("2", sid="SMscore")
    phone.send("the queue", sid="SMreason")

    # Someone replays two earlier signed requests (or the provider redelivers them late).
    replays = [phone.send("2", sid="SMscore"), phone.send("the queue", sid="SMreason")]
    real_yes = phone.send("YES", sid="SMyes")
    replayed_yes = phone.send("YES", sid="SMyes")

    assert [reply_of(r) for r in replays] == [
        "",
        "Would you like the store manager to call you? Reply YES or NO.",
    ]
    assert reply_of(real_yes) == "Thank you. The store manager will call you soon."
    assert reply_of(replayed_yes) == reply_of(real_yes)
    (request,) = stored_callback_requests()
    assert request["comment"] == "the queue"
    assert ratings.get_rating("sms-twilio-SMscore") is not None


def test_a_replayed_start_cannot_undo_a_later_stop(api, integration, store):
    phone = Phone(api)
    phone.send("STOP", sid="SMstop1")
    phone.send("START", sid="SMstart")
    phone.send("STOP", sid="SMstop2")

    replayed = phone.send("START", sid="SMstart")
    invited = invite_by_api(api, integration)

    assert reply_of(replayed) == ""
    assert invited.json_body == {
        "invitation_id": invited.json_body["invitation_id"],
        "status": "suppressed",
        "reason": "opted_out",
    }


def test_an_aws_redelivery_of_an_earlier_message_is_not_read_as_the_next_answer(
    api, integration, store
):
    from chalice.test import Client

    from app import app

    invite_by_api(api, integration)

    def deliver(message_id: str, body: str) -> None:
        inbound = {"originationNumber": PHONE, "messageBody": body, "inboundMessageId": message_id}
        with Client(app) as client:
            event = client.events.generate_sns_event(message=json.dumps(inbound), subject="")
            event["Records"][0]["Sns"]["TopicArn"] = f"arn:aws:sns:us-east-1:1:{INBOUND_SMS_TOPIC}"
            client.lambda_.invoke("inbound_sms", event)

    deliver("m-score", "1")
    deliver("m-reason", "nobody at the till")
    sent = len(texts_to(PHONE))
    deliver("m-score", "1")  # SNS delivers at least once: a late repeat

    assert len(texts_to(PHONE)) == sent  # no reply: the customer was asked already
    deliver("m-yes", "yes")
    assert texts_to(PHONE)[-1] == "Thank you. The store manager will call you soon."
    (request,) = stored_callback_requests()
    assert request["comment"] == "nobody at the till"


@pytest.mark.parametrize("signature", [None, "bm90IGEgc2lnbmF0dXJl", "sign-with-another-token"])
def test_a_missing_or_wrong_signature_gets_403_and_changes_nothing(
    api, integration, store, signature
):
    invite_by_api(api, integration)
    if signature == "sign-with-another-token":
        signature = RequestValidator("another-token").compute_signature(WEBHOOK, {"Body": "5"})

    response = Phone(api).send("5", sid="SMforged", signature=signature)

    assert response.status_code == 403
    assert response.json_body["error"]["code"] == "forbidden"
    assert ratings.get_rating("sms-twilio-SMforged") is None


def test_a_happy_score_is_thanked_and_the_conversation_ends(api, integration, store):
    invite_by_api(api, integration)
    phone = Phone(api)

    thanked = phone.send("⭐⭐⭐⭐⭐")
    after = phone.send("bye")

    assert reply_of(thanked) == "Thank you for your feedback!"
    assert reply_of(after) == ""
    assert stored_callback_requests() == []


def test_an_unparseable_reply_is_reprompted_once_then_kept_as_a_comment(api, integration, store):
    invite_by_api(api, integration)
    phone = Phone(api)

    reprompt = phone.send("it was ok I guess")
    kept = phone.send("really not sure")

    assert reply_of(reprompt) == "Please reply with a number from 1 to 5."
    assert reply_of(kept) == "Thank you, we have passed your message on."


def test_stop_opts_out_at_once_confirms_once_and_start_opts_back_in(api, integration, store):
    invite_by_api(api, integration)
    phone = Phone(api)

    stopped = phone.send("Stop.")
    again = phone.send("STOP")
    ignored = phone.send("5")
    suppressed = invite_by_api(api, integration)
    started = phone.send("start")

    assert "unsubscribed" in reply_of(stopped)
    assert reply_of(again) == ""
    assert reply_of(ignored) == ""
    assert suppressed.json_body == {
        "invitation_id": suppressed.json_body["invitation_id"],
        "status": "suppressed",
        "reason": "opted_out",
    }
    assert "resubscribed" in reply_of(started)
    assert len(texts_to(PHONE)) == 1  # the first invitation; nothing after STOP


def test_a_plain_request_to_stop_is_an_opt_out(api, integration, store):
    invite_by_api(api, integration)

    response = Phone(api).send("please stop texting me")

    assert "unsubscribed" in reply_of(response)
    assert invite_by_api(api, integration).json_body["reason"] == "opted_out"


def test_help_says_who_we_are_and_how_to_stop(api, integration, store):
    response = Phone(api).send("help")

    assert "STOP" in reply_of(response)
    assert "storepulse" in reply_of(response)


@pytest.mark.parametrize(
    ("phone", "reason"),
    [("4155550123", "invalid_phone"), ("+1415555", "invalid_phone")],
)
def test_an_invalid_number_is_suppressed_with_the_reason(api, integration, store, phone, reason):
    response = invite_by_api(api, integration, phone=phone)

    assert response.status_code == 202
    assert response.json_body["status"] == "suppressed"
    assert response.json_body["reason"] == reason
    assert sms_sender.OUTBOX == []


def test_a_number_surveyed_recently_is_not_surveyed_again(api, integration, store):
    first = invite_by_api(api, integration, visit_ref="visit-1")
    second = invite_by_api(api, integration, visit_ref="visit-2")

    assert first.json_body["status"] == "sent"
    assert second.json_body["status"] == "suppressed"
    assert second.json_body["reason"] == "recently_surveyed"


def test_a_retried_invitation_gets_the_same_answer_and_one_sms(api, integration, store):
    first = invite_by_api(api, integration, visit_ref="receipt-9")
    retry = invite_by_api(api, integration, visit_ref="receipt-9")

    assert retry.json_body == first.json_body
    assert len(texts_to(PHONE)) == 1


def test_invitations_need_a_store_system_credential_for_that_store(api, store):
    staff = bearer(issue_staff_token("alice", "staff", ["store-a"], now()))
    other = bearer(issue_integration_token("pos-b", ["store-b"], now()))

    assert invite_by_api(api, staff).status_code == 401
    assert invite_by_api(api, other).status_code == 403


def test_outside_quiet_hours_the_invitation_waits_for_the_window(storage):
    stores.put_store(make_store("store-q", timezone="America/Los_Angeles", sms_window=None))
    store = stores.get_store("store-q")
    assert store is not None
    night = datetime(2026, 11, 25, 7, 0, tzinfo=UTC)  # 23:00 in Los Angeles
    request = InvitationRequest(phone="+14155550199", store_id="store-q", locale="zh-CN")

    invitation = invite(request, store, night)
    too_early = send_due_invitations(night + timedelta(hours=8))  # 07:00 local
    on_time = send_due_invitations(night + timedelta(hours=9, minutes=1))  # 08:01 local
    again = send_due_invitations(night + timedelta(hours=9, minutes=6))

    assert invitation.status == "scheduled"
    assert invitation.send_at == datetime(2026, 11, 25, 16, 0, tzinfo=UTC)  # 08:00 local
    assert (too_early, on_time, again) == (0, 1, 0)
    assert texts_to("+14155550199")[0].startswith("Store store-q：您今天的购物体验如何")
    assert sms_state.get_conversation(sms_state.key_of("+14155550199"), night) is not None


def test_aws_end_user_messaging_replies_arrive_through_sns(api, integration, store):
    from chalice.test import Client

    from app import app

    invite_by_api(api, integration)
    inbound = {
        "originationNumber": PHONE,
        "destinationNumber": "+12065550100",
        "messageKeyword": "KEYWORD_123456789012",
        "messageBody": "4分",
        "inboundMessageId": "cae173d2-66b9-564c-8309-21f858e9fb84",
        "previousPublishedMessageId": "wJ0N1K2Q7rcuE5oDxu1w",
    }

    with Client(app) as client:
        event = client.events.generate_sns_event(message=json.dumps(inbound), subject="")
        event["Records"][0]["Sns"]["TopicArn"] = f"arn:aws:sns:us-east-1:1:{INBOUND_SMS_TOPIC}"
        client.lambda_.invoke("inbound_sms", event)

    rating = ratings.get_rating("sms-aws-cae173d2-66b9-564c-8309-21f858e9fb84")
    assert rating is not None
    assert rating.score == 4
    assert texts_to(PHONE)[-1] == "Thank you for your feedback!"


# The scheduled sender checks again at send time (issue 11, point 1): what happened to the
# number while the invitation waited for the window decides whether it still goes out.
NIGHT = datetime(2026, 11, 25, 7, 0, tzinfo=UTC)  # 23:00 in Los Angeles
OPENING = NIGHT + timedelta(hours=9, minutes=1)  # 08:01 in Los Angeles
NIGHT_PHONE = "+14155550199"


def night_invitation(store_id: str = "store-q", visit_ref: str | None = None) -> str:
    """An invitation asked for at 23:00 Los Angeles time: it waits for 08:00."""
    if stores.get_store(store_id) is None:
        stores.put_store(make_store(store_id, timezone="America/Los_Angeles", sms_window=None))
    store = stores.get_store(store_id)
    assert store is not None
    request = InvitationRequest(phone=NIGHT_PHONE, store_id=store_id, visit_ref=visit_ref)
    invitation = invite(request, store, NIGHT)
    assert invitation.status == "scheduled"
    return invitation.invitation_id


def captured_logs(monkeypatch) -> io.StringIO:
    buffer = io.StringIO()
    monkeypatch.setattr(logger.registered_handler, "stream", buffer)
    return buffer


def test_a_scheduled_invitation_is_not_sent_after_the_customer_opts_out(storage, monkeypatch):
    from chalicelib.flows.sms_survey import handle_inbound_sms

    invitation_id = night_invitation()
    stopped = handle_inbound_sms(
        NIGHT_PHONE, "please stop texting me", "twilio-SMstop", NIGHT + timedelta(hours=1)
    )
    logs = captured_logs(monkeypatch)

    sent = send_due_invitations(OPENING)
    again = send_due_invitations(OPENING + timedelta(minutes=5))

    assert "unsubscribed" in (stopped or "")
    assert (sent, again) == (0, 0)
    assert texts_to(NIGHT_PHONE) == []  # the reply goes back in the webhook's answer
    stored = sms_state.get_invitation(invitation_id)
    assert stored is not None
    assert (stored.status, stored.reason, stored.suppressed_at) == (
        "suppressed",
        "opted_out",
        OPENING,
    )
    item = invitation_item(invitation_id)
    assert "phone" not in item
    assert invitation_id not in sms_state.due_invitations(OPENING, timedelta(days=1))
    assert sms_state.get_conversation(sms_state.key_of(NIGHT_PHONE), OPENING) is None
    (line,) = [json.loads(line) for line in logs.getvalue().splitlines() if "reason" in line]
    assert (line["invitation_id"], line["reason"]) == (invitation_id, "opted_out")
    assert NIGHT_PHONE not in logs.getvalue()


def invitation_item(invitation_id: str) -> dict[str, Any]:
    item = sms_state.stored_invitation(invitation_id)
    assert item is not None
    return item


def test_of_two_invitations_that_crossed_at_night_only_one_is_sent(storage, monkeypatch):
    # Two store systems invite the number at the same moment: each reads the number's
    # history before the other has written it, so both are scheduled for 08:00.
    with monkeypatch.context() as race:
        race.setattr(sms_state, "survey_history", lambda key, now: SurveyHistory())
        first = night_invitation("store-q", visit_ref="receipt-q")
        second = night_invitation("store-r", visit_ref="receipt-r")

    sent = send_due_invitations(OPENING)

    assert sent == 1
    assert len(texts_to(NIGHT_PHONE)) == 1
    statuses = {i: sms_state.get_invitation(i) for i in (first, second)}
    assert sorted(str(s.status) for s in statuses.values() if s) == ["sent", "suppressed"]
    (suppressed,) = [s for s in statuses.values() if s and s.status == "suppressed"]
    assert (suppressed.reason, suppressed.suppressed_at) == ("recently_surveyed", OPENING)
    conversation = sms_state.get_conversation(sms_state.key_of(NIGHT_PHONE), OPENING)
    assert conversation is not None
    assert conversation.conversation_id != suppressed.invitation_id


def test_a_scheduled_invitation_past_its_lifetime_is_not_sent(storage):
    invitation_id = night_invitation()
    # The sender was down until after the invitation expired (72 hours after it was asked).
    late = NIGHT + timedelta(hours=72, minutes=1)

    sent = send_due_invitations(late)

    assert sent == 0
    assert texts_to(NIGHT_PHONE) == []
    stored = sms_state.get_invitation(invitation_id)
    assert stored is not None
    assert (stored.status, stored.reason, stored.suppressed_at) == ("suppressed", "expired", late)
    assert invitation_id not in sms_state.due_invitations(late, timedelta(days=4))  # off it


def test_a_scheduled_invitation_still_goes_out_after_stop_then_start(storage):
    from chalicelib.flows.sms_survey import handle_inbound_sms

    invitation_id = night_invitation()
    handle_inbound_sms(NIGHT_PHONE, "STOP", "twilio-SMs1", NIGHT + timedelta(hours=1))
    handle_inbound_sms(NIGHT_PHONE, "START", "twilio-SMs2", NIGHT + timedelta(hours=2))

    sent = send_due_invitations(OPENING)

    assert sent == 1
    stored = sms_state.get_invitation(invitation_id)
    assert stored is not None
    assert stored.status == "sent"


# AWS End User Messaging's ordering (issue 11, point 2): SNS delivers at least once and in
# no guaranteed order; each notification's Timestamp is when End User Messaging published it.
PUBLISHED = datetime(2026, 11, 25, 17, 0, tzinfo=UTC)


def deliver_sns(message_id: str, body: str, published_at: datetime, phone: str = PHONE) -> None:
    """One inbound message through the app's SNS handler, published at `published_at`."""
    from chalice.test import Client

    from app import app

    inbound = {"originationNumber": phone, "messageBody": body, "inboundMessageId": message_id}
    with Client(app) as client:
        event = client.events.generate_sns_event(message=json.dumps(inbound), subject="")
        record = event["Records"][0]["Sns"]
        record["TopicArn"] = f"arn:aws:sns:us-east-1:1:{INBOUND_SMS_TOPIC}"
        record["Timestamp"] = published_at.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        client.lambda_.invoke("inbound_sms", event)


def processed_ids(phone: str = PHONE) -> set[str]:
    item = sms_state.stored_inbound(sms_state.key_of(phone))
    assert item is not None
    return set(item["message_ids"])


def test_a_late_earlier_message_is_not_read_as_the_answer_to_the_current_question(
    api, integration, store
):
    invite_by_api(api, integration)
    deliver_sns("m-score", "1", PUBLISHED)
    deliver_sns("m-reason", "nobody at the till", PUBLISHED + timedelta(seconds=40))
    asked = texts_to(PHONE)
    before = sms_state.get_conversation(sms_state.key_of(PHONE), now())

    # "ok", sent between the two but delivered last, would read as YES to the call offer.
    deliver_sns("m-late", "ok", PUBLISHED + timedelta(seconds=20))
    after = sms_state.get_conversation(sms_state.key_of(PHONE), now())
    deliver_sns("m-late", "ok", PUBLISHED + timedelta(seconds=20))  # and its redelivery
    deliver_sns("m-no", "no", PUBLISHED + timedelta(seconds=60))

    assert asked[-1] == "Would you like the store manager to call you? Reply YES or NO."
    assert before is not None
    assert after == before  # no change: the same state, version and last reply
    assert "aws-m-late" in processed_ids()
    assert texts_to(PHONE) == [*asked, "Thank you for your feedback!"]  # no reply to "ok"
    assert stored_callback_requests() == []


def test_a_message_published_with_the_last_one_or_later_is_an_answer(api, integration, store):
    invite_by_api(api, integration)

    deliver_sns("m-score", "2", PUBLISHED)
    deliver_sns("m-reason", "the queue", PUBLISHED)  # the same millisecond: not earlier

    assert texts_to(PHONE)[-1] == "Would you like the store manager to call you? Reply YES or NO."
    conversation = sms_state.get_conversation(sms_state.key_of(PHONE), now())
    assert conversation is not None
    assert conversation.last_message_at == PUBLISHED


def test_a_late_stop_still_opts_out(api, integration, store):
    invite_by_api(api, integration)
    deliver_sns("m-score", "1", PUBLISHED + timedelta(seconds=30))

    deliver_sns("m-stop", "STOP", PUBLISHED)  # sent before the score, delivered after it

    assert "unsubscribed" in texts_to(PHONE)[-1]
    assert invite_by_api(api, integration).json_body["reason"] == "opted_out"


def test_a_late_start_sent_before_a_stop_does_not_undo_it(api, integration, store):
    deliver_sns("m-stop", "STOP", PUBLISHED + timedelta(seconds=30))
    texts = len(texts_to(PHONE))

    deliver_sns("m-start", "START", PUBLISHED)  # published before the STOP, delivered after

    assert len(texts_to(PHONE)) == texts  # no "resubscribed"
    assert "aws-m-start" in processed_ids()
    assert invite_by_api(api, integration).json_body["reason"] == "opted_out"


# The expectation question (issue 11, point 4), where the store's survey asks it.
ASK_EXPECTATION = (
    "Compared with what you expected, was it worse, as expected or better? "
    "Reply 1 worse, 2 as expected, 3 better"
)


@pytest.fixture
def expecting(store):
    """store-a's survey asks the expectation question."""
    survey = store.survey.model_copy(update={"ask_expectation": True})
    stores.put_store(store.model_copy(update={"survey": survey}))


def test_the_sms_survey_asks_the_expectation_and_stores_it_on_the_rating(
    api, integration, expecting
):
    invite_by_api(api, integration)
    phone = Phone(api)

    asked = phone.send("2", sid="SMscore")
    waiting = ratings.get_rating("sms-twilio-SMscore")
    why = phone.send("worse", sid="SMexpect")
    retried = phone.send("worse", sid="SMexpect")  # Twilio's retry
    offer = phone.send("the queue", sid="SMreason")

    assert reply_of(asked) == ASK_EXPECTATION
    assert waiting is None  # the score waits for its expectation (the rating is immutable)
    assert reply_of(why) == reply_of(retried) == "Sorry to hear that. What went wrong?"
    assert reply_of(offer) == "Would you like the store manager to call you? Reply YES or NO."
    rating = ratings.get_rating("sms-twilio-SMscore")
    assert rating is not None
    assert (rating.score, rating.expectation, rating.channel) == (2, "worse", "sms")
    hour = floor_hour(rating.received_at)
    arrived = [a["rating_id"] for a in ratings.arrivals(hour, hour + timedelta(hours=1))]
    assert rating.rating_id in arrived  # aggregation finds it in arrivals


def test_keywords_still_work_while_the_expectation_is_asked(api, integration, expecting):
    invite_by_api(api, integration)
    phone = Phone(api)

    phone.send("5", sid="SMscore")
    helped = phone.send("HELP")
    thanked = phone.send("3")

    assert "STOP" in reply_of(helped)
    assert reply_of(thanked) == "Thank you for your feedback!"
    rating = ratings.get_rating("sms-twilio-SMscore")
    assert rating is not None
    assert rating.expectation == "better"


def test_an_unparseable_expectation_is_skipped_and_never_asked_again(api, integration, expecting):
    invite_by_api(api, integration)
    phone = Phone(api)

    phone.send("4", sid="SMscore")
    thanked = phone.send("dunno")

    assert reply_of(thanked) == "Thank you for your feedback!"
    rating = ratings.get_rating("sms-twilio-SMscore")
    assert rating is not None
    assert (rating.score, rating.expectation) == (4, None)


def test_a_score_whose_expectation_goes_unanswered_is_stored_without_it(
    api, integration, expecting
):
    from chalicelib.domain.sms_conversation import EXPECTATION_WAIT
    from chalicelib.jobs.sms_schedule import store_unanswered_ratings

    invite_by_api(api, integration)
    phone = Phone(api)
    phone.send("4", sid="SMscore")
    scored_at = now()

    early = store_unanswered_ratings(scored_at + EXPECTATION_WAIT - timedelta(minutes=1))
    late_at = scored_at + EXPECTATION_WAIT + timedelta(minutes=1)
    stored = store_unanswered_ratings(late_at)
    again = store_unanswered_ratings(late_at + timedelta(minutes=5))
    late_answer = phone.send("3")

    assert (early, stored, again) == (0, 1, 0)
    rating = ratings.get_rating("sms-twilio-SMscore")
    assert rating is not None
    assert (rating.score, rating.expectation) == (4, None)
    assert rating.received_at == late_at.replace(microsecond=late_at.microsecond // 1000 * 1000)
    assert reply_of(late_answer) == "Thank you for your feedback!"  # the flow goes on
    unchanged = ratings.get_rating("sms-twilio-SMscore")
    assert unchanged == rating


def test_a_stop_while_the_expectation_is_asked_keeps_the_score(api, integration, expecting):
    invite_by_api(api, integration)
    phone = Phone(api)
    phone.send("1", sid="SMscore")

    stopped = phone.send("STOP")

    assert "unsubscribed" in reply_of(stopped)
    rating = ratings.get_rating("sms-twilio-SMscore")
    assert rating is not None
    assert (rating.score, rating.expectation) == (1, None)
