"""SMS surveys: invitations from store systems, and inbound messages from any provider (the
routes of api/sms_routes.py; AWS End User Messaging's SNS handler in app.py). Loaded on
first use, so the kiosk ingest path (a cold-start budget) never pays for them."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar
from uuid import uuid4

from ..clock import now
from ..config import secret, settings
from ..domain.consent import ConsentRecord
from ..domain.invitations import (
    Invitation,
    InvitationRequest,
    SurveyHistory,
    invitation_consent,
    next_send_time,
    opening_conversation,
    suppression,
)
from ..domain.phones import local_time_zone, mask_phone, parse_e164
from ..domain.sms_conversation import (
    Conversation,
    advance,
    message,
    published_too_early,
    unanswered_rating,
)
from ..domain.sms_replies import Keyword, match_keyword
from ..domain.survey import Store
from ..domain.visits import visit_id
from ..errors import BadRequest, DependencyUnavailable, Forbidden
from ..notify.sms_sender import SmsRejected, send_sms, worst_send_s
from ..observability import logger
from ..storage import ratings, sms_state, stores, visits
from ..storage.dynamodb import worst_call_s


def invite(
    request: InvitationRequest, store: Store, at: datetime, started: float | None = None
) -> Invitation:
    """Suppress, schedule or send an invitation; a store system's retry (same visit_ref) gets
    the first answer again. Works to the request's deadline (`invitation_deadline_s` after
    `started`, the request's `time.monotonic()`, or after now): DependencyUnavailable for
    what could not be done by then, and nothing left that keeps the retry from texting."""
    config = settings()
    deadline = _Deadline(
        (time.monotonic() if started is None else started) + config.invitation_deadline_s
    )
    ref = request.visit_ref
    expires_at = at + timedelta(hours=config.invitation_ttl_hours)
    invitation_id = visit_id(store.store_id, ref) if ref else str(uuid4())
    survey = store.survey
    locale = request.locale if request.locale in survey.locales else survey.default_locale
    try:
        phone: str | None = parse_e164(request.phone)
    except ValueError:
        phone = None
    key = sms_state.key_of(phone) if phone else None
    history = deadline.call(lambda: sms_state.survey_history(key, at)) if key else SurveyHistory()
    if ref and phone:
        # The visit's number, for a callback asked for on the kiosk or the link survey.
        deadline.call(lambda: visits.keep_phone(store.store_id, ref, phone, expires_at))
    answered = bool(ref) and deadline.call(lambda: visits.answered(store.store_id, ref or ""))
    # The cool-down an earlier request of this invitation took holds no retry of it back:
    # that request's answer stands, or its void claim is taken over.
    own_mark = history.last_invitation_id == invitation_id
    reason = suppression(
        valid_phone=phone is not None,
        opted_out=history.opted_out,
        last_surveyed=None if own_mark else history.last_surveyed,
        now=at,
        cooldown=timedelta(days=config.survey_cooldown_days),
        visit_answered=answered,
    )
    base = {
        "invitation_id": invitation_id,
        "store_id": store.store_id,
        "locale": locale,
        "visit_ref": request.visit_ref,
        "created_at": at,
        "expires_at": expires_at,
    }
    if reason or phone is None or key is None:
        invitation = Invitation(**base, status="suppressed", reason=reason)
        return _recorded(invitation, key=None, phone=None, deadline=deadline)
    window = store.sms_window or (config.sms_window_start_hour, config.sms_window_end_hour)
    send_at = next_send_time(at, local_time_zone(phone) or store.timezone, *window)
    if send_at > at:
        invitation = Invitation(**base, status="scheduled", send_at=send_at)
        return _recorded(invitation, key=key, phone=phone, deadline=deadline)
    invitation = Invitation(**base, status="sent", send_at=at)
    claim = _Claim(
        invitation,
        key,
        phone,
        opening_conversation(invitation, store, phone, at),
        invitation_consent(invitation, at),
        uuid4().hex,
        deadline,
    )
    held = _claimed(claim)
    if held is not invitation:
        return held  # a retry: the first answer stands
    return _send_invitation(claim, store)


@dataclass(frozen=True)
class _Deadline:
    at: float  # time.monotonic()

    def fits(self, after: float = 0.0) -> bool:
        """Whether one DynamoDB call, at its worst, and `after` seconds more end by it."""
        return time.monotonic() + worst_call_s() + after <= self.at

    def call(self, read: Callable[[], _T], *, after: float = 0.0, budgeted: bool = False) -> _T:
        """`read` (a call that is safe to repeat), tried again while it fails and fits with
        `after` seconds more; `budgeted`: its first try was counted in when the call before
        it started, and starts even if that one overran its worst case (timeouts are not
        kept to the millisecond)."""
        for attempt in range(_TRIES):
            if not (budgeted and attempt == 0) and not self.fits(after):
                break
            try:
                return read()
            except DependencyUnavailable:
                continue
        raise DependencyUnavailable("storage is unavailable; retry", settings().retry_after_s)


_T = TypeVar("_T")
# Tries of a call that is safe to repeat (each is retried by botocore too).
_TRIES = 3


@dataclass(frozen=True)
class _Claim:
    """An invitation to text now, as this request writes it, under its own claim id."""

    invitation: Invitation
    key: str
    phone: str
    conversation: Conversation
    consent: ConsentRecord
    claim_id: str
    deadline: _Deadline

    def record(self) -> bool:
        """`sms_state.record_invitation` of this claim."""
        return sms_state.record_invitation(
            self.invitation,
            key=self.key,
            phone=self.phone,
            conversation=self.conversation,
            consent=self.consent,
            claim_id=self.claim_id,
            fits=self.write_fits,
        )

    def take_over(self, void: str) -> bool:
        """`sms_state.take_over_invitation` from the void claim `void`."""
        return sms_state.take_over_invitation(
            self.invitation,
            void,
            key=self.key,
            phone=self.phone,
            conversation=self.conversation,
            consent=self.consent,
            claim_id=self.claim_id,
            fits=self.write_fits,
        )

    def write_fits(self) -> bool:
        # A write of the claim starts only while the void that undoes it fits after it.
        return self.deadline.fits(after=worst_call_s())


def _recorded(
    invitation: Invitation, *, key: str | None, phone: str | None, deadline: _Deadline
) -> Invitation:
    """An invitation not texted now (suppressed or scheduled) as recorded: `invitation`
    itself if this call wrote it, else the one a store system's earlier request wrote (a
    write of ours still on its way then fails its condition)."""
    if sms_state.record_invitation(
        invitation, key=key, phone=phone, conversation=None, fits=deadline.fits
    ):
        return invitation
    existing = deadline.call(lambda: sms_state.get_invitation(invitation.invitation_id))
    return existing or invitation


def _claimed(claim: _Claim) -> Invitation:
    """`claim.invitation` if this request now holds it (it texts it), else the one an
    earlier request holds (the first answer stands). An invitation whose holder's claim
    is void was never texted: it is taken over. If no answer tells, the claim is given up
    (`_give_up`) and DependencyUnavailable raised."""
    invitation = claim.invitation
    if not claim.write_fits():  # nothing of ours sent: nothing to give up
        raise DependencyUnavailable(
            "no time left to record the invitation; retry", settings().retry_after_s
        )
    try:
        for _ in range(_ROUNDS):
            if claim.record():
                return invitation
            stored = claim.deadline.call(
                lambda: sms_state.stored_claims(invitation.invitation_id),
                after=worst_call_s(),  # and the void, if no answer comes
            )
            if stored.holder == claim.claim_id:
                return invitation  # our own earlier send landed
            if stored.invitation is None:
                continue  # forgotten meanwhile: written afresh
            if stored.holder is None or stored.holder not in stored.void:
                return stored.invitation
            if claim.take_over(stored.holder):
                return invitation
        # Each round found the invitation changed by another request: let the retry see.
        raise DependencyUnavailable("the invitation changed meanwhile; retry", 1)
    except DependencyUnavailable:
        _give_up(claim)
        raise


# Rounds of write-and-read while other requests keep changing the invitation.
_ROUNDS = 3


def _give_up(claim: _Claim) -> None:
    """This request will not text its claim: the claim is made void (a write of it still
    on its way can then no longer land, and the store system's retry may take the
    invitation over), then, if time is left, what it wrote is
    forgotten (the number's survey mark and conversation go with it: without a retry the
    customer, never texted, is not held to the cool-down)."""
    invitation = claim.invitation
    try:
        claim.deadline.call(
            lambda: sms_state.void_claim(
                invitation.invitation_id, claim.claim_id, invitation.expires_at
            ),
            budgeted=True,
        )
    except DependencyUnavailable:
        # At most once wins: the invitation may stay held by this claim and untexted.
        logger.error(
            "invitation claim not made void; it may never be texted",
            extra={"invitation_id": invitation.invitation_id},
        )
        return
    if claim.deadline.fits():
        with contextlib.suppress(DependencyUnavailable):
            sms_state.forget_invitation(invitation, claim.key, claim.claim_id)


def _send_invitation(claim: _Claim, store: Store) -> Invitation:
    invitation = claim.invitation
    # The text starts only while the void that undoes the claim if it fails fits after it.
    if not claim.deadline.fits(after=worst_send_s()):
        _give_up(claim)
        raise DependencyUnavailable(
            "no time left to send the invitation; retry", settings().retry_after_s
        )
    text = message("invitation", invitation.locale, store.survey, store.name)
    try:
        send_sms(claim.phone, text)
    except DependencyUnavailable:
        # Nothing half-stored: the store system is told to retry and the retry texts it.
        _give_up(claim)
        raise
    except SmsRejected as rejection:
        _give_up(claim)
        logger.info("invitation undeliverable", extra={"code": rejection.code})
        return _recorded(
            invitation.model_copy(update={"status": "suppressed", "reason": "undeliverable"}),
            key=None,
            phone=None,
            deadline=claim.deadline,
        )
    logger.info(
        "invitation sent",
        extra={"invitation_id": invitation.invitation_id, "phone": mask_phone(claim.phone)},
    )
    return invitation


def twilio_reply(params: dict[str, str], signature: str | None, at: datetime) -> str | None:
    """A message from Twilio's webhook (its form `params`, signed by `signature`): the reply
    to send in the TwiML answer, None for none."""
    from ..notify.twilio_webhook import is_valid_twilio_signature

    config = settings()
    if not config.twilio_webhook_url:
        raise DependencyUnavailable("the Twilio webhook URL is not configured", 60)
    auth_token = secret(config.twilio_auth_token_secret_name)
    if not is_valid_twilio_signature(config.twilio_webhook_url, params, signature, auth_token):
        raise Forbidden("the X-Twilio-Signature header is missing or wrong")
    sender, sid = params.get("From", ""), params.get("MessageSid", "")
    if not sid:  # it keys the idempotency of Twilio's retries: never process without it
        raise BadRequest("the form has no MessageSid")
    try:
        phone = parse_e164(sender)
    except ValueError:
        return None  # short codes and alphanumeric senders are not customers
    return handle_inbound_sms(phone, params.get("Body", ""), f"twilio-{sid}", at)


def aws_inbound(sns_message: str, published_at: str | None = None) -> None:
    """Two-way SMS from AWS End User Messaging (an SNS notification; `published_at`, its
    `Timestamp`: when End User Messaging published the message); the reply goes out through
    its API. Wired in app.py: Chalice runs a blueprint's event handler without the app's
    middleware."""
    inbound = json.loads(sns_message)
    try:
        phone = parse_e164(str(inbound.get("originationNumber", "")))
    except ValueError:
        return
    reply = handle_inbound_sms(
        phone,
        str(inbound.get("messageBody", "")),
        f"aws-{inbound['inboundMessageId']}",
        now(),
        published_at=_moment(published_at),
    )
    if reply:
        send_sms(phone, reply)


def _moment(timestamp: str | None) -> datetime | None:
    """SNS's `Timestamp` (`2026-11-25T17:00:00.000Z`), or None if it is missing or unreadable
    (then the message is read as it comes, like Twilio's)."""
    try:
        moment = datetime.fromisoformat(timestamp) if timestamp else None
    except ValueError:
        return None
    return moment if moment is not None and moment.tzinfo is not None else None


def handle_inbound_sms(
    phone: str, text: str, message_id: str, at: datetime, published_at: datetime | None = None
) -> str | None:
    """One inbound message, from any provider: the reply to send (None: send nothing).

    Every processed message id of the number is kept, written with the message's effect: a
    provider's redelivery or a replayed request changes nothing (the last message gets its
    reply again, in case the provider lost it; an older one gets none). Where the provider
    says when it published the message (`published_at`: AWS, not Twilio), a late delivery
    of an earlier message is not read as the answer to the current question, and a START
    sent before a STOP does not undo it; a STOP is a STOP whenever it arrives."""
    key = sms_state.key_of(phone)
    state = sms_state.inbound_state(key, at)
    conversation = state.conversation
    if message_id in state.processed:
        logger.info("sms redelivered or replayed; ignored", extra={"message_id": message_id})
        if state.last_message_id is not None:  # the number's record keeps the last reply
            return state.last_reply if state.last_message_id == message_id else None
        last = conversation is not None and conversation.last_message_id == message_id
        return conversation.last_reply if conversation and last else None
    store_name = conversation.store_name if conversation else "storepulse"
    locale = conversation.locale if conversation else _guess_locale(text)
    keyword = match_keyword(text)
    if keyword is Keyword.OPT_OUT:
        waiting = unanswered_rating(conversation, at) if conversation else None
        if waiting is not None:  # the score given before the STOP is kept, like any other
            ratings.put_rating(visits.counted(waiting))
        confirmation = message("opted_out", locale, store=store_name)
        first = sms_state.opt_out(
            key, at, source=message_id, published_at=published_at, confirmation=confirmation
        )
        logger.info("sms opt-out", extra={"phone": mask_phone(phone), "first": first})
        return confirmation if first else None
    if keyword is Keyword.OPT_IN:
        stopped_at = state.opted_out_published_at
        if published_at is not None and stopped_at is not None and published_at < stopped_at:
            sms_state.remember_message(key, message_id, at)
            logger.info("sms START sent before the STOP; ignored", extra={"message_id": message_id})
            return None
        welcome = message("opted_in", locale, store=store_name)
        sms_state.opt_in(key, message_id, at, welcome)
        return welcome
    if keyword is Keyword.HELP:
        help_text = message("help", locale, store=store_name)
        sms_state.remember_message(key, message_id, at, help_text)
        return help_text
    if conversation is None:
        return None  # no survey running for this number: stay silent
    if published_too_early(conversation, published_at):
        sms_state.remember_message(key, message_id, at)
        logger.info(
            "sms published before the conversation's last message; ignored",
            extra={"message_id": message_id},
        )
        return None
    store = stores.get_store(conversation.store_id)
    if store is None:
        return None
    step = advance(
        conversation,
        text,
        message_id=message_id,
        received_at=at,
        survey=store.survey,
        published_at=published_at,
    )
    if step.conversation is conversation:
        return step.reply
    if step.rating is not None:
        ratings.put_rating(
            visits.counted(step.rating)
        )  # keyed by the provider's message id: retry-safe
    if not sms_state.save_conversation(key, step.conversation, message_id, at, step.consent):
        # Another message of this number moved the conversation first; the provider's
        # retry of this one will be answered from the new state.
        raise DependencyUnavailable("the conversation changed meanwhile; retry", 1)
    return step.reply


def _guess_locale(text: str) -> str:
    return "zh-CN" if any("\u4e00" <= char <= "\u9fff" for char in text) else "en"
