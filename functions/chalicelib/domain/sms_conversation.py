"""The SMS survey conversation, provider-neutral: what to answer and what to store for each
inbound message. Pure: the caller loads the conversation, stores what `advance` returns.

    awaiting_score --score--> done                        (happy or neutral: thanks)
                   --score at or below the callback threshold--> awaiting_reason
                   --score, where the survey asks the expectation--> awaiting_expectation
                   --unparseable, once--> awaiting_score  (one short re-prompt with the range)
                   --unparseable again--> done            (the text is kept as a comment)
    awaiting_expectation --1/2/3, worse/as expected/better, or unparseable (skipped, never
                           asked again)--> awaiting_reason (at or below the threshold)
                                           | done (thanks)
                         --no answer within EXPECTATION_WAIT--> (the scheduled SMS job
                           stores the score without it; a later answer moves on the same way)
    awaiting_reason --any text (the comment)--> awaiting_callback
    awaiting_callback --YES--> done (callback requested) | --NO--> done
                      --unclear, once--> awaiting_callback (re-prompt)

Keywords (STOP, START, HELP) are read before any of this, in every state.

The expectation and the stored rating: a rating is immutable, written once and keyed by the
score message's id, and aggregation counts `expectation` from the rating item (and its
arrivals index entry), where a late update would miss an arrival hour already final. So
where the survey asks the expectation, the rating waits in the conversation
(`pending_rating`) and is stored once, whole, when the expectation is answered or skipped;
one never answered is stored without it after EXPECTATION_WAIT (`unanswered_rating`), and a
STOP stores it at once: the customer's score is never lost.

Where the store calls back every SMS detractor (`Survey.callback_every_sms_detractor`), the
callback is requested with the unhappy score itself (a customer who goes silent is still
called), and the answer to "what went wrong?" ends the conversation with "the manager will
call you" instead of a YES/NO question whose NO would be ignored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict

from .consent import CURRENT_VERSIONS, ConsentRecord, consent_text, given
from .ratings import Rating
from .sms_replies import parse_expectation, parse_score, parse_yes_no
from .survey import Survey
from .text import strip_control_characters

State = Literal[
    "awaiting_score", "awaiting_expectation", "awaiting_reason", "awaiting_callback", "done"
]
MAX_SMS_COMMENT = 500
# How long a score waits for its expectation answer before it is stored without it.
EXPECTATION_WAIT = timedelta(minutes=30)

# The invitation and the call offer are what customers consent on: their words are versioned
# in domain/consent.py, and consent records name the version sent.
INVITATION_VERSION = CURRENT_VERSIONS[("sms_survey", "store_system")]
CALL_OFFER_VERSION = CURRENT_VERSIONS[("callback", "sms")]

MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        "invitation": consent_text("sms_survey", INVITATION_VERSION)["en"],
        "reprompt_score": "Please reply with a number from {min} to {max}.",
        "ask_expectation": "Compared with what you expected, was it worse, as expected or "
        "better? Reply 1 worse, 2 as expected, 3 better",
        "ask_reason": "Sorry to hear that. What went wrong?",
        "ask_callback": consent_text("callback", CALL_OFFER_VERSION)["en"],
        "reprompt_yes_no": "Please reply YES or NO.",
        "thanks": "Thank you for your feedback!",
        "thanks_callback": "Thank you. The store manager will call you soon.",
        "kept_comment": "Thank you, we have passed your message on.",
        "opted_out": "You are unsubscribed from {store} surveys and will get no more messages. "
        "Reply START to resubscribe.",
        "opted_in": "You are resubscribed to {store} surveys. Reply STOP to opt out.",
        "help": "{store} customer survey by storepulse. Msg & data rates may apply. "
        "Reply STOP to opt out.",
    },
    "zh-CN": {
        "invitation": consent_text("sms_survey", INVITATION_VERSION)["zh-CN"],
        "reprompt_score": "请回复 {min} 到 {max} 之间的数字。",
        "ask_expectation": "与您的预期相比，是更差、符合预期还是更好？"
        "回复 1 更差，2 符合预期，3 更好",
        "ask_reason": "很抱歉。请告诉我们哪里做得不好？",
        "ask_callback": consent_text("callback", CALL_OFFER_VERSION)["zh-CN"],
        "reprompt_yes_no": "请回复 是 或 否。",
        "thanks": "感谢您的反馈！",
        "thanks_callback": "谢谢。门店经理会尽快给您回电。",
        "kept_comment": "谢谢，我们已转达您的留言。",
        "opted_out": "您已退订 {store} 的调查短信，将不再收到消息。回复 START 重新订阅。",
        "opted_in": "您已重新订阅 {store} 的调查短信。回复 退订 或 STOP 取消。",
        "help": "{store} 顾客调查（storepulse）。可能产生短信费用。回复 退订 或 STOP 取消。",
    },
}


def text_locale(locale: str) -> str:
    """The language our texts are sent in for `locale`: English when we have no other."""
    return locale if locale in MESSAGES else "en"


def message(key: str, locale: str, survey: Survey | None = None, store: str = "") -> str:
    """One of our SMS texts in the customer's language (English when we have no other)."""
    texts = MESSAGES[text_locale(locale)]
    scale = survey.scale if survey else None
    return texts[key].format(
        store=store, min=scale.min if scale else "", max=scale.max if scale else ""
    )


class Conversation(BaseModel):
    """One customer's survey by SMS, from the invitation to the last answer."""

    model_config = ConfigDict(frozen=True)

    conversation_id: str  # the invitation's id
    store_id: str
    visit_ref: str | None = None  # the invitation's: the visit its answer is for
    store_name: str
    phone: str
    locale: str = "en"
    state: State = "awaiting_score"
    reprompted: bool = False
    score: int | None = None
    rating_id: str | None = None
    comment: str | None = None
    callback_requested: bool = False
    # The score's rating while it waits for the expectation answer (see the module's doc).
    pending_rating: Rating | None = None
    started_at: datetime
    last_message_id: str | None = None
    # When the provider published the last message that moved the conversation (AWS End User
    # Messaging's SNS Timestamp; None with Twilio, which gives no such time).
    last_message_at: datetime | None = None
    last_reply: str | None = None
    version: int = 0


@dataclass(frozen=True)
class Step:
    conversation: Conversation
    reply: str | None
    rating: Rating | None = None  # to store (once, keyed by the provider's message id)
    consent: ConsentRecord | None = None  # to record with the step (YES to the call offer)


def published_too_early(conversation: Conversation, published_at: datetime | None) -> bool:
    """A message published before the one that moved the conversation last: a late delivery
    of an earlier message, which must not be read as the answer to the current question.
    (One published in the same millisecond is not earlier.)"""
    last = conversation.last_message_at
    return published_at is not None and last is not None and published_at < last


def advance(
    conversation: Conversation,
    text: str,
    *,
    message_id: str,
    received_at: datetime,
    survey: Survey,
    published_at: datetime | None = None,
) -> Step:
    """The next state, the reply to send and the rating to store for one inbound message
    (`published_at`: when the provider published it, where it says)."""
    if conversation.last_message_id == message_id:  # a provider retry: same answer again
        return Step(conversation, conversation.last_reply)
    say = _say(conversation, survey)
    changes: dict[str, object]
    rating = None
    consent = None
    if conversation.state == "awaiting_score":
        score = parse_score(text, survey.scale.min, survey.scale.max)
        if score is None and not conversation.reprompted:
            changes, reply = {"reprompted": True}, say("reprompt_score")
        elif score is None:
            changes = {"state": "done", "comment": _comment(text)}
            reply = say("kept_comment")
        else:
            rating = _sms_rating(conversation, score, message_id, received_at, survey)
            unhappy = score <= survey.callback_at_or_below
            changes = {
                "state": "awaiting_reason" if unhappy else "done",
                "score": score,
                "rating_id": rating.rating_id,
                "reprompted": False,
                "callback_requested": unhappy and survey.callback_every_sms_detractor,
            }
            reply = say("ask_reason" if unhappy else "thanks")
            if survey.ask_expectation:  # asked once; the rating waits for the answer
                changes |= {"state": "awaiting_expectation", "pending_rating": rating}
                rating, reply = None, say("ask_expectation")
    elif conversation.state == "awaiting_expectation":
        pending = conversation.pending_rating  # None once the scheduled job stored it
        if pending is not None:
            expectation = parse_expectation(text)  # None: skipped, not asked again
            rating = pending.model_copy(
                update={"expectation": expectation, "received_at": received_at}
            )
        unhappy = (conversation.score or 0) <= survey.callback_at_or_below
        changes = {"state": "awaiting_reason" if unhappy else "done", "pending_rating": None}
        reply = say("ask_reason" if unhappy else "thanks")
    elif conversation.state == "awaiting_reason" and conversation.callback_requested:
        changes = {"state": "done", "comment": _comment(text)}
        reply = say("thanks_callback")
    elif conversation.state == "awaiting_reason":
        changes = {"state": "awaiting_callback", "comment": _comment(text)}
        reply = say("ask_callback")
    elif conversation.state == "awaiting_callback":
        wants_call = parse_yes_no(text)
        if wants_call is None and not conversation.reprompted:
            changes, reply = {"reprompted": True}, say("reprompt_yes_no")
        else:
            changes = {"state": "done", "callback_requested": bool(wants_call)}
            reply = say("thanks_callback" if wants_call else "thanks")
            if wants_call:  # a YES to the offer's words is consent to be called
                consent = given(
                    "callback",
                    "sms",
                    locale=text_locale(conversation.locale),
                    at=received_at,
                    source=message_id,
                    version=CALL_OFFER_VERSION,
                )
    else:  # done: nothing more to ask, and no reply that would invite another message
        return Step(conversation, None)
    last_at = conversation.last_message_at
    if published_at is not None and (last_at is None or published_at > last_at):
        last_at = published_at
    updated = conversation.model_copy(
        update=changes
        | {
            "last_message_id": message_id,
            "last_message_at": last_at,
            "last_reply": reply,
            "version": conversation.version + 1,
        }
    )
    return Step(updated, reply, rating, consent)


def unanswered_rating(conversation: Conversation, at: datetime) -> Rating | None:
    """The score waiting for its expectation answer, to store at `at` without it (the answer
    did not come within EXPECTATION_WAIT, or the customer opted out); None if none waits."""
    pending = conversation.pending_rating
    return pending.model_copy(update={"received_at": at}) if pending is not None else None


def _say(conversation: Conversation, survey: Survey):  # type: ignore[no-untyped-def]
    def say(key: str) -> str:
        return message(key, conversation.locale, survey, conversation.store_name)

    return say


def _comment(text: str) -> str:
    # An SMS cannot be refused like a kiosk comment: what would reorder or hide text is dropped.
    return strip_control_characters(text).strip()[:MAX_SMS_COMMENT]


def _sms_rating(
    conversation: Conversation,
    score: int,
    message_id: str,
    received_at: datetime,
    survey: Survey,
) -> Rating:
    return Rating(
        rating_id=f"sms-{message_id}",
        store_id=conversation.store_id,
        channel="sms",
        source_id=conversation.conversation_id,
        survey_id=survey.survey_id,
        survey_version=survey.version,
        score=score,
        locale=conversation.locale,
        tapped_at=received_at,
        received_at=received_at,
        visit_ref=conversation.visit_ref,
    )
