"""SMS surveys: invitations from store systems, and inbound messages from any provider (the
routes of api/sms_routes.py; AWS End User Messaging's SNS handler in app.py). Loaded on
first use, so the kiosk ingest path (a cold-start budget) never pays for them."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from uuid import NAMESPACE_URL, uuid4, uuid5

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
from ..errors import BadRequest, DependencyUnavailable, Forbidden
from ..notify.sms_sender import SmsRejected, send_sms
from ..observability import logger
from ..storage import ratings, sms_state, stores


def invite(request: InvitationRequest, store: Store, at: datetime) -> Invitation:
    """Suppress, schedule or send an invitation; a store system's retry (same visit_ref) gets
    the first answer again."""
    config = settings()
    invitation_id = (
        str(uuid5(NAMESPACE_URL, f"storepulse:{store.store_id}:{request.visit_ref}"))
        if request.visit_ref
        else str(uuid4())
    )
    survey = store.survey
    locale = request.locale if request.locale in survey.locales else survey.default_locale
    try:
        phone: str | None = parse_e164(request.phone)
    except ValueError:
        phone = None
    key = sms_state.key_of(phone) if phone else None
    history = sms_state.survey_history(key, at) if key else SurveyHistory()
    reason = suppression(
        valid_phone=phone is not None,
        opted_out=history.opted_out,
        last_surveyed=history.last_surveyed,
        now=at,
        cooldown=timedelta(days=config.survey_cooldown_days),
    )
    base = {
        "invitation_id": invitation_id,
        "store_id": store.store_id,
        "locale": locale,
        "visit_ref": request.visit_ref,
        "created_at": at,
        "expires_at": at + timedelta(hours=config.invitation_ttl_hours),
    }
    if reason or phone is None or key is None:
        invitation = Invitation(**base, status="suppressed", reason=reason)
        return _recorded(invitation, key=None, phone=None, conversation=None)
    window = store.sms_window or (config.sms_window_start_hour, config.sms_window_end_hour)
    send_at = next_send_time(at, local_time_zone(phone) or store.timezone, *window)
    if send_at > at:
        invitation = Invitation(**base, status="scheduled", send_at=send_at)
        return _recorded(invitation, key=key, phone=phone, conversation=None)
    invitation = Invitation(**base, status="sent", send_at=at)
    conversation = opening_conversation(invitation, store, phone, at)
    claim_id = uuid4().hex
    recorded = _recorded(
        invitation,
        key=key,
        phone=phone,
        conversation=conversation,
        consent=invitation_consent(invitation, at),
        claim_id=claim_id,
    )
    if recorded is not invitation:
        return recorded  # a retry: the first answer stands
    return _send_invitation(invitation, key, phone, store, claim_id)


def _recorded(
    invitation: Invitation,
    *,
    key: str | None,
    phone: str | None,
    conversation: Conversation | None,
    consent: ConsentRecord | None = None,
    claim_id: str | None = None,
) -> Invitation:
    """The invitation as recorded: `invitation` itself if this call wrote it, else the
    one a store system's earlier request wrote. With `claim_id` (an invitation to text
    now), our own write is told from an earlier request's by the claim the stored one
    holds: ours is texted now. This call never answers 503 leaving its write able to land
    later (a stalled write lands after its timeout): the store system's retry would then
    find the invitation 'sent' and never texted."""
    try:
        written = sms_state.record_invitation(
            invitation,
            key=key,
            phone=phone,
            conversation=conversation,
            consent=consent,
            claim_id=claim_id,
        )
    except DependencyUnavailable:
        if claim_id is not None and key is not None:
            _undo(invitation, key, claim_id)
        raise
    if written or (claim_id is not None and key is not None and _ours(invitation, key, claim_id)):
        return invitation
    existing = sms_state.get_invitation(invitation.invitation_id)
    return existing or invitation


def _ours(invitation: Invitation, key: str, claim_id: str) -> bool:
    """Whether the stored invitation (whose write has answered: it no longer changes) is
    the one this request wrote. If that cannot be read, ours is undone and the caller is
    told to retry."""
    for _ in range(_TRIES):
        try:
            return sms_state.invitation_claim(invitation.invitation_id) == claim_id
        except DependencyUnavailable:
            continue
    _undo(invitation, key, claim_id)
    raise DependencyUnavailable("storage is unavailable; retry", settings().retry_after_s)


def _undo(invitation: Invitation, key: str, claim_id: str) -> None:
    """Make sure this request's invitation is not stored, so that the store system's retry
    starts afresh: its claim is made void first (a write of it still on its way can then
    no longer land), then what it wrote is forgotten."""
    steps: tuple[Callable[[], object], ...] = (
        lambda: sms_state.void_claim(invitation.invitation_id, claim_id, invitation.expires_at),
        lambda: sms_state.forget_invitation(invitation, key, claim_id),
    )
    for step in steps:
        for _ in range(_TRIES):
            try:
                step()
            except DependencyUnavailable:
                continue
            break
        else:
            # At most once wins: the invitation may stay recorded 'sent' and untexted.
            logger.error(
                "invitation not undone; it may never be texted",
                extra={"invitation_id": invitation.invitation_id},
            )
            return


# Each call is retried by botocore too.
_TRIES = 3


def _send_invitation(
    invitation: Invitation, key: str, phone: str, store: Store, claim_id: str
) -> Invitation:
    text = message("invitation", invitation.locale, store.survey, store.name)
    try:
        send_sms(phone, text)
    except DependencyUnavailable:
        # Nothing half-stored: the store system is told to retry and the retry starts afresh.
        sms_state.forget_invitation(invitation, key, claim_id)
        raise
    except SmsRejected as rejection:
        sms_state.forget_invitation(invitation, key, claim_id)
        logger.info("invitation undeliverable", extra={"code": rejection.code})
        return _recorded(
            invitation.model_copy(update={"status": "suppressed", "reason": "undeliverable"}),
            key=None,
            phone=None,
            conversation=None,
        )
    logger.info(
        "invitation sent",
        extra={"invitation_id": invitation.invitation_id, "phone": mask_phone(phone)},
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
            ratings.put_rating(waiting)
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
        ratings.put_rating(step.rating)  # keyed by the provider's message id: retry-safe
    if not sms_state.save_conversation(key, step.conversation, message_id, at, step.consent):
        # Another message of this number moved the conversation first; the provider's
        # retry of this one will be answered from the new state.
        raise DependencyUnavailable("the conversation changed meanwhile; retry", 1)
    return step.reply


def _guess_locale(text: str) -> str:
    return "zh-CN" if any("\u4e00" <= char <= "\u9fff" for char in text) else "en"
