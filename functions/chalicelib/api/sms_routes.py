"""SMS surveys over HTTP: invitations from store systems and Twilio's inbound webhook. The
flows are in flows/sms_survey.py, loaded on first use so the kiosk ingest path (a cold-start budget)
never pays for them; AWS End User Messaging's inbound SNS handler is wired in app.py."""

from __future__ import annotations

from time import monotonic
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from chalice.app import Response

from ..auth import integration_principal
from ..clock import now
from ..flows import existing_store
from ..observability import metrics
from .http import ApiBlueprint, json_response, parse_body, parse_form

bp = ApiBlueprint(__name__)

# AWS End User Messaging publishes inbound messages of the two-way number to this topic.
INBOUND_SMS_TOPIC = "storepulse-inbound-sms"


@bp.route("/v1/surveys/invitations", methods=["POST"])
def create_invitation() -> Any:
    started = monotonic()  # the request's deadline counts from here
    from ..domain.invitations import InvitationRequest
    from ..flows.sms_survey import invite

    principal = integration_principal(bp.current_request.headers)
    request = parse_body(bp.current_request, InvitationRequest)
    principal.require_store(request.store_id)
    invitation = invite(request, existing_store(request.store_id), now(), started)
    metrics.add_metric(name=f"invitations_{invitation.status}", unit=MetricUnit.Count, value=1)
    return json_response(invitation.answer(), 202)


@bp.route("/v1/sms/twilio", methods=["POST"], content_types=["application/x-www-form-urlencoded"])
def twilio_inbound() -> Any:
    from ..flows.sms_survey import twilio_reply
    from ..notify.twilio_webhook import twiml

    form = parse_form(bp.current_request)
    reply = twilio_reply(form, bp.current_request.headers.get("x-twilio-signature"), now())
    return Response(body=twiml(reply), status_code=200, headers={"Content-Type": "text/xml"})
