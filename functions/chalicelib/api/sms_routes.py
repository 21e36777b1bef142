"""SMS surveys over HTTP: invitations from store systems and Twilio's inbound webhook. The
flows are in flows/sms_survey.py, loaded on first use so the kiosk ingest path (a cold-start budget)
never pays for them; AWS End User Messaging's inbound SNS handler is wired in app.py."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from aws_lambda_powertools.metrics import MetricUnit
from chalice.app import Blueprint, Response

from ..auth import integration_principal
from ..clock import now
from ..config import secret, settings
from ..errors import BadRequest, DependencyUnavailable, Forbidden, NotFound
from ..observability import metrics
from ..storage import stores
from .http import json_response, parse_body

bp = Blueprint(__name__)

# AWS End User Messaging publishes inbound messages of the two-way number to this topic.
INBOUND_SMS_TOPIC = "storepulse-inbound-sms"


@bp.route("/v1/surveys/invitations", methods=["POST"])
def create_invitation() -> Any:
    from ..domain.invitations import InvitationRequest
    from ..flows.sms_survey import invite

    principal = integration_principal(bp.current_request.headers)
    request = parse_body(bp.current_request, InvitationRequest)
    principal.require_store(request.store_id)
    store = stores.get_store(request.store_id)
    if store is None:
        raise NotFound(f"store {request.store_id} does not exist")
    invitation = invite(request, store, now())
    metrics.add_metric(name=f"invitations_{invitation.status}", unit=MetricUnit.Count, value=1)
    return json_response(invitation.answer(), 202)


@bp.route("/v1/sms/twilio", methods=["POST"], content_types=["application/x-www-form-urlencoded"])
def twilio_inbound() -> Any:
    from ..domain.phones import parse_e164
    from ..flows.sms_survey import handle_inbound_sms
    from ..notify.twilio_webhook import is_valid_twilio_signature

    request = bp.current_request
    raw = request.raw_body or b""
    try:
        body = raw.decode() if isinstance(raw, bytes) else raw
    except UnicodeDecodeError:
        raise BadRequest("the body is not UTF-8 form data") from None
    params = dict(parse_qsl(body, keep_blank_values=True))
    config = settings()
    if not config.twilio_webhook_url:
        raise DependencyUnavailable("the Twilio webhook URL is not configured", 60)
    auth_token = secret(config.twilio_auth_token_secret_name)
    signature = request.headers.get("x-twilio-signature")
    if not is_valid_twilio_signature(config.twilio_webhook_url, params, signature, auth_token):
        raise Forbidden("the X-Twilio-Signature header is missing or wrong")
    sender, sid = params.get("From", ""), params.get("MessageSid", "")
    if not sid:  # it keys the idempotency of Twilio's retries: never process without it
        raise BadRequest("the form has no MessageSid")
    try:
        phone = parse_e164(sender)
    except ValueError:
        return _twiml(None)  # short codes and alphanumeric senders are not customers
    reply = handle_inbound_sms(phone, params.get("Body", ""), f"twilio-{sid}", now())
    return _twiml(reply)


def _twiml(reply: str | None) -> Response:
    from ..notify.twilio_webhook import twiml

    return Response(body=twiml(reply), status_code=200, headers={"Content-Type": "text/xml"})
