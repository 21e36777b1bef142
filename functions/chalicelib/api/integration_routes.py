"""Store-system integrations: their credentials made, listed (never the token) and revoked.

The flow and its models load on first use, inside each handler: the kiosk ingest path, a
cold-start budget, never needs them."""

from __future__ import annotations

from typing import Any

from chalice.app import Response

from ..auth import staff_principal
from ..clock import now
from .http import ApiBlueprint, json_response, parse_body

bp = ApiBlueprint(__name__)


@bp.route("/v1/integrations", methods=["POST"])
def create() -> Any:
    from ..domain.people import IntegrationRequest
    from ..flows import integrations

    principal = staff_principal(bp.current_request.headers)
    request = parse_body(bp.current_request, IntegrationRequest)
    return json_response(integrations.create(principal, request, now()), 201)


@bp.route("/v1/integrations", methods=["GET"])
def list_integrations() -> Any:
    from ..flows import integrations

    principal = staff_principal(bp.current_request.headers)
    return {"integrations": [i.view() for i in integrations.visible(principal)]}


@bp.route("/v1/integrations/{integration_id}", methods=["DELETE"])
def revoke(integration_id: str) -> Any:
    from ..flows import integrations

    integrations.revoke(staff_principal(bp.current_request.headers), integration_id, now())
    return Response(body="", status_code=204)
