"""The SMS conversation as a state machine, with plain values."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from chalicelib.domain.sms_conversation import Conversation, advance
from chalicelib.domain.survey import DEFAULT_SURVEY

pytestmark = pytest.mark.unit

AT = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)


def start(**overrides) -> Conversation:
    values = {
        "conversation_id": "inv-1",
        "store_id": "store-a",
        "store_name": "Store A",
        "phone": "+14155550123",
        "started_at": AT,
    }
    return Conversation(**(values | overrides))


def talk(conversation: Conversation, *texts: str, survey=DEFAULT_SURVEY):
    steps = []
    for index, text in enumerate(texts):
        step = advance(conversation, text, message_id=f"m{index}", received_at=AT, survey=survey)
        steps.append(step)
        conversation = step.conversation
    return steps


def test_an_unhappy_score_asks_why_then_offers_a_call():
    score, reason, answer = talk(start(), "2", "rude staff", "是")

    assert score.rating is not None
    assert (score.rating.score, score.rating.channel, score.rating.rating_id) == (
        2,
        "sms",
        "sms-m0",
    )
    assert score.conversation.state == "awaiting_reason"
    assert reason.conversation.comment == "rude staff"
    assert reason.conversation.state == "awaiting_callback"
    assert answer.conversation.callback_requested is True
    assert answer.conversation.state == "done"
    assert answer.rating is None


def test_a_happy_score_ends_with_thanks():
    (step,) = talk(start(), "5")

    assert step.conversation.state == "done"
    assert step.reply == "Thank you for your feedback!"


def test_no_callback_when_the_customer_says_no():
    *_, answer = talk(start(), "1", "dirty", "no thanks")

    assert answer.conversation.callback_requested is False
    assert answer.reply == "Thank you for your feedback!"


def test_unclear_answers_get_one_reprompt():
    first, second = talk(start(), "meh", "still meh")
    *_, unclear, settled = talk(start(), "1", "dirty", "maybe", "maybe")

    assert first.reply == "Please reply with a number from 1 to 5."
    assert second.conversation.comment == "still meh"
    assert second.conversation.state == "done"
    assert unclear.reply == "Please reply YES or NO."
    assert settled.conversation.state == "done"
    assert settled.conversation.callback_requested is False


def test_a_retried_message_gets_the_same_reply_and_no_new_rating():
    (step,) = talk(start(), "2")

    again = advance(step.conversation, "2", message_id="m0", received_at=AT, survey=DEFAULT_SURVEY)

    assert again.conversation is step.conversation
    assert again.reply == step.reply
    assert again.rating is None


def test_chinese_customers_are_answered_in_chinese():
    (step,) = talk(start(locale="zh-CN"), "不满意")

    assert step.rating is not None
    assert step.rating.score == 2
    assert step.reply == "很抱歉。请告诉我们哪里做得不好？"


def test_a_finished_conversation_answers_nothing():
    *_, done = talk(start(), "5", "thanks!")

    assert done.reply is None


def test_where_the_store_calls_every_detractor_the_score_itself_requests_the_call():
    survey = DEFAULT_SURVEY.model_copy(update={"callback_every_sms_detractor": True})
    score, reason = talk(start(), "2", "the queue", survey=survey)

    assert score.conversation.callback_requested is True
    assert score.reply == "Sorry to hear that. What went wrong?"
    assert reason.conversation.state == "done"
    assert reason.conversation.comment == "the queue"
    assert reason.reply == "Thank you. The store manager will call you soon."


def test_a_happy_customer_is_not_called_even_where_every_detractor_is():
    survey = DEFAULT_SURVEY.model_copy(update={"callback_every_sms_detractor": True})

    step = advance(start(), "4", message_id="m0", received_at=AT, survey=survey)

    assert step.conversation.callback_requested is False


def test_an_sms_comment_loses_characters_that_reorder_or_hide_text():
    from chalicelib.domain.sms_conversation import _comment

    assert _comment(" call me on \u202e4321\u200b 8765\r\nthanks\x00 ") == (
        "call me on 4321 8765\nthanks"
    )


def test_the_conversation_keeps_when_its_last_message_was_published():
    from datetime import timedelta

    from chalicelib.domain.sms_conversation import published_too_early

    first = advance(
        start(), "1", message_id="m0", received_at=AT, survey=DEFAULT_SURVEY, published_at=AT
    ).conversation
    later = AT + timedelta(seconds=30)
    second = advance(
        first, "rude", message_id="m1", received_at=later, survey=DEFAULT_SURVEY, published_at=later
    ).conversation

    assert (first.last_message_at, second.last_message_at) == (AT, later)
    assert published_too_early(second, later - timedelta(milliseconds=1))
    assert not published_too_early(second, later)  # the same millisecond is not earlier
    assert not published_too_early(second, None)  # Twilio: no publish time, read as it comes
    assert not published_too_early(start(), AT)  # nothing processed yet


# The expectation question (issue 11, point 4), where the survey sets ask_expectation.
EXPECTING = DEFAULT_SURVEY.model_copy(update={"ask_expectation": True})
ASK_EXPECTATION = (
    "Compared with what you expected, was it worse, as expected or better? "
    "Reply 1 worse, 2 as expected, 3 better"
)


def test_an_unhappy_score_is_asked_the_expectation_once_then_what_went_wrong():
    steps = talk(start(), "2", "1", "rude staff", "yes", survey=EXPECTING)
    score, expectation, reason, answer = steps

    assert score.reply == ASK_EXPECTATION
    assert score.rating is None  # stored once, whole, when the expectation is answered
    assert score.conversation.state == "awaiting_expectation"
    assert expectation.reply == "Sorry to hear that. What went wrong?"
    assert expectation.conversation.state == "awaiting_reason"
    assert expectation.rating is not None
    assert (expectation.rating.rating_id, expectation.rating.score) == ("sms-m0", 2)
    assert expectation.rating.expectation == "worse"
    assert expectation.rating.tapped_at == AT  # the score's time
    assert expectation.conversation.pending_rating is None
    assert reason.reply == "Would you like the store manager to call you? Reply YES or NO."
    assert answer.conversation.callback_requested is True
    assert [s.rating is not None for s in (score, expectation, reason, answer)] == [
        False,
        True,
        False,
        False,
    ]


def test_a_happy_score_is_asked_the_expectation_instead_of_thanked_at_once():
    score, expectation, after = talk(start(), "5", "3 better", "bye", survey=EXPECTING)

    assert score.reply == ASK_EXPECTATION
    assert expectation.reply == "Thank you for your feedback!"
    assert expectation.conversation.state == "done"
    assert expectation.rating is not None
    assert expectation.rating.expectation == "better"
    assert after.reply is None


@pytest.mark.parametrize("score", ["1", "4"])
def test_an_unparseable_expectation_is_skipped_without_a_second_question(score):
    asked, skipped = talk(start(), score, "what do you mean", survey=EXPECTING)

    assert asked.reply == ASK_EXPECTATION
    assert skipped.rating is not None
    assert skipped.rating.expectation is None
    assert skipped.reply in ("Sorry to hear that. What went wrong?", "Thank you for your feedback!")
    assert skipped.conversation.state in ("awaiting_reason", "done")


def test_the_expectation_is_asked_in_chinese_to_chinese_customers():
    (step,) = talk(start(locale="zh-CN"), "不满意", survey=EXPECTING)

    assert step.reply == "与您的预期相比，是更差、符合预期还是更好？回复 1 更差，2 符合预期，3 更好"


def test_no_expectation_question_where_the_survey_does_not_ask_it():
    (step,) = talk(start(), "5")

    assert step.reply == "Thank you for your feedback!"
    assert step.rating is not None
    assert step.rating.expectation is None


def test_where_the_store_calls_every_detractor_the_score_still_requests_the_call_at_once():
    survey = EXPECTING.model_copy(update={"callback_every_sms_detractor": True})

    score, expectation, reason = talk(start(), "1", "2", "the queue", survey=survey)

    assert score.conversation.callback_requested is True
    assert expectation.rating is not None
    assert expectation.rating.expectation == "as_expected"
    assert expectation.reply == "Sorry to hear that. What went wrong?"
    assert reason.reply == "Thank you. The store manager will call you soon."


def test_a_score_whose_expectation_never_comes_is_stored_without_it():
    from datetime import timedelta

    from chalicelib.domain.sms_conversation import EXPECTATION_WAIT, unanswered_rating

    (score,) = talk(start(), "4", survey=EXPECTING)
    later = AT + EXPECTATION_WAIT + timedelta(minutes=1)

    rating = unanswered_rating(score.conversation, later)

    assert rating is not None
    assert (rating.rating_id, rating.score, rating.expectation) == ("sms-m0", 4, None)
    assert (rating.tapped_at, rating.received_at) == (AT, later)
    assert unanswered_rating(start(), later) is None
