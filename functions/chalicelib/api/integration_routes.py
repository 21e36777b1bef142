"""Store-system integrations: their credentials made, listed (never the token) and revoked."""

from __future__ import annotations

from typing import Any

from chalice.app import Response

from ..auth import staff_principal
from ..clock import now
from ..domain.people import IntegrationRequest
from ..flows import integrations
from .http import ApiBlueprint, json_response, parse_body

bp = ApiBlueprint(__name__)


@bp.route("/v1/integrations", methods=["POST"])
def create() -> Any:
    principal = staff_principal(bp.current_request.headers)
    request = parse_body(bp.current_request, IntegrationRequest)
    return json_response(integrations.create(principal, request, now()), 201)


@bp.route("/v1/integrations", methods=["GET"])
def list_integrations() -> Any:
    principal = staff_principal(bp.current_request.headers)
    return {"integrations": [i.view() for i in integrations.visible(principal)]}


@bp.route("/v1/integrations/{integration_id}", methods=["DELETE"])
def revoke(integration_id: str) -> Any:
    integrations.revoke(staff_principal(bp.current_request.headers), integration_id, now())
    return Response(body="", status_code=204)
