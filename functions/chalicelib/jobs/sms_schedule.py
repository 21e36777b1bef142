"""Scheduled: send the invitations that waited for the store's sending window, and store the
SMS scores whose expectation question went unanswered."""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import uuid4

from ..config import settings
from ..domain.invitations import invitation_consent, opening_conversation, suppression_at_send
from ..domain.sms_conversation import message, unanswered_rating
from ..errors import DependencyUnavailable
from ..notify.sms_sender import SmsRejected, send_sms
from ..observability import logger
from ..storage import ratings, sms_state, stores, visits


def send_due_invitations(now: datetime) -> int:
    """Send every scheduled invitation whose time has come, once each; returns how many.

    What happened while it waited is checked again at send time: an invitation that expired,
    whose customer opted out, or that crossed with another survey of the number is held back
    for good, its item saying why and when. Overlapping runs are safe: an invitation leaves
    the schedule in a conditional write, which records the run's claim, before its SMS goes
    out. An invitation that storage fails on is left for the next run, which sends it: one
    not taken stays on the schedule, and a run that gives up its take (no answer came, or
    the text failed) makes its claim void on the schedule in the invitation's place; the
    next run takes it over from that claim, which was never texted. A run that dies
    between the take and the text leaves it unsent (at most once)."""
    config = settings()
    sent = 0
    lookback = timedelta(hours=config.invitation_ttl_hours)
    for invitation_id in sms_state.due_invitations(now, lookback):
        try:
            sent += _send_due(invitation_id, now, timedelta(days=config.survey_cooldown_days))
        except DependencyUnavailable:
            logger.warning(
                "scheduled invitation left for the next run", extra={"invitation_id": invitation_id}
            )
    return sent


def _send_due(invitation_id: str, now: datetime, cooldown: timedelta) -> int:
    scheduled = sms_state.scheduled_invitation(invitation_id)
    if scheduled is None:
        return 0  # another run took it, or held it back
    invitation, phone = scheduled.invitation, scheduled.phone
    key = sms_state.key_of(phone)
    history = sms_state.survey_history(key, now)
    ref = invitation.visit_ref
    answered = bool(ref) and visits.answered(invitation.store_id, ref or "")
    reason = suppression_at_send(
        invitation, history, now=now, cooldown=cooldown, visit_answered=answered
    )
    if reason is not None:
        if sms_state.suppress_scheduled(scheduled, reason, now):
            logger.info(
                "scheduled invitation suppressed",
                extra={"invitation_id": invitation_id, "reason": reason},
            )
        return 0
    store = stores.get_store(invitation.store_id)
    if store is None:
        return 0
    conversation = opening_conversation(invitation, store, phone, now)
    claim_id = uuid4().hex
    try:
        claimed = sms_state.claim_scheduled(
            scheduled,
            now,
            key=key,
            conversation=conversation,
            consent=invitation_consent(invitation, now),
            claim_id=claim_id,
        )
    except DependencyUnavailable:
        # No answer came: the take may have happened unseen, or may yet (a stalled write
        # lands after the client gave up). Give it up and let the next run send it.
        _give_up(scheduled, claim_id)
        return 0
    if not claimed:  # another run's take, or our own earlier send's
        try:
            ours = sms_state.invitation_claim(invitation_id) == claim_id
        except DependencyUnavailable:
            _give_up(scheduled, claim_id)
            return 0
        if not ours:
            return 0
    try:
        send_sms(phone, message("invitation", invitation.locale, store.survey, store.name))
    except DependencyUnavailable:
        _give_up(scheduled, claim_id)
        logger.warning(
            "scheduled invitation not sent; kept for the next run",
            extra={"invitation_id": invitation_id},
        )
        return 0
    except SmsRejected as rejection:  # the provider refuses this number: drop it
        logger.info(
            "scheduled invitation undeliverable",
            extra={"invitation_id": invitation_id, "code": rejection.code},
        )
        return 0
    return 1


def _give_up(scheduled: sms_state.ScheduledInvitation, claim_id: str) -> None:
    """Our take undone, whatever it did: the claim is made void on the schedule, where the
    next run finds the invitation and takes it over (`void_scheduled_claim`)."""
    for _ in range(_GIVE_UP_TRIES):
        try:
            sms_state.void_scheduled_claim(scheduled, claim_id)
        except DependencyUnavailable:
            continue
        return
    # At most once wins: taken, maybe (or later: the take may still land), and not sent.
    logger.error(
        "scheduled invitation claim not made void; it may never be sent",
        extra={"invitation_id": scheduled.invitation.invitation_id},
    )


# Each try is retried by botocore too; a claim not made void may leave it taken, unsent.
_GIVE_UP_TRIES = 3


def store_unanswered_ratings(now: datetime) -> int:
    """Store the SMS scores whose expectation question went unanswered for EXPECTATION_WAIT,
    without it (a score is never lost for a question the customer skipped); returns how many.
    Re-runs and overlaps are safe: the rating is keyed by the score's message id."""
    stored = 0
    lookback = timedelta(hours=settings().invitation_ttl_hours)
    for key in sms_state.unanswered_expectations(now, lookback):
        conversation = sms_state.waiting_conversation(key)
        rating = unanswered_rating(conversation, now) if conversation else None
        if conversation is None or rating is None:
            continue  # answered meanwhile
        stored += ratings.put_rating(visits.counted(rating))
        sms_state.settle_unanswered(key, conversation)
    return stored
