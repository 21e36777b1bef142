"""Scheduled: send the invitations that waited for the store's sending window."""

from __future__ import annotations

from datetime import datetime, timedelta

from ..config import settings
from ..domain.invitations import Invitation
from ..domain.sms_conversation import Conversation, message
from ..errors import ApiError
from ..notify.sms import SmsRejected, send_sms
from ..observability import logger
from ..store import sms as sms_store
from ..store import stores


def send_due_invitations(now: datetime) -> int:
    """Send every scheduled invitation whose time has come, once each; returns how many.
    Overlapping runs are safe: an invitation leaves the schedule in a conditional update
    before its SMS goes out."""
    sent = 0
    lookback = timedelta(hours=settings().invitation_ttl_hours)
    for invitation_id in sms_store.due_invitations(now, lookback):
        item = sms_store.claim_scheduled(invitation_id, now)
        if item is None:
            continue
        invitation = Invitation.model_validate(item)
        store = stores.get_store(invitation.store_id)
        phone = str(item["phone"])
        if store is None:
            continue
        key = sms_store.key_of(phone)
        conversation = Conversation(
            conversation_id=invitation.invitation_id,
            store_id=store.store_id,
            store_name=store.name,
            phone=phone,
            locale=invitation.locale,
            started_at=now,
        )
        sms_store.start_conversation(key, conversation)
        try:
            send_sms(phone, message("invitation", invitation.locale, store.survey, store.name))
        except ApiError:
            sms_store.reschedule(item)
            logger.warning("scheduled invitation not sent; kept for the next run")
            continue
        except SmsRejected as rejection:  # the provider refuses this number: drop it
            logger.info("scheduled invitation undeliverable", extra={"code": rejection.code})
            continue
        sent += 1
    return sent
