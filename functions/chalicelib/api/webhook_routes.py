"""Staff API for a store's signed webhooks out: create, list with failures, rotate, delete
(an admin, or a manager of the store's region).

The flow and its models load on first use, inside each handler: the kiosk ingest path, a
cold-start budget, never needs them."""

from __future__ import annotations

from typing import Any

from chalice.app import Response

from ..auth import staff_principal
from ..clock import now
from .http import ApiBlueprint, json_response, parse_body

bp = ApiBlueprint(__name__)


def _managed(store_id: str) -> str:
    from ..flows.stores import store_for

    principal = staff_principal(bp.current_request.headers)
    principal.require_manage(store_for(principal, store_id))
    return store_id


@bp.route("/v1/stores/{store_id}/webhooks", methods=["POST"])
def create_webhook(store_id: str) -> Any:
    from ..domain.webhooks import NewWebhook
    from ..flows import webhooks

    _managed(store_id)
    request = parse_body(bp.current_request, NewWebhook)
    return json_response(webhooks.create_webhook(store_id, request, now()), 201)


@bp.route("/v1/stores/{store_id}/webhooks", methods=["GET"])
def list_webhooks(store_id: str) -> Any:
    from ..flows import webhooks

    return {"webhooks": webhooks.list_webhooks(_managed(store_id))}


@bp.route("/v1/stores/{store_id}/webhooks/{webhook_id}/rotate", methods=["POST"])
def rotate_webhook_secret(store_id: str, webhook_id: str) -> Any:
    from ..flows import webhooks

    return webhooks.rotate_secret(_managed(store_id), webhook_id)


@bp.route("/v1/stores/{store_id}/webhooks/{webhook_id}", methods=["DELETE"])
def delete_webhook(store_id: str, webhook_id: str) -> Any:
    from ..flows import webhooks

    webhooks.delete_webhook(_managed(store_id), webhook_id)
    return Response(body="", status_code=204)
