"""Staff API for a store: its survey; its kiosks: issue pairing codes, list, revoke."""

from __future__ import annotations

from typing import Any

from ..auth import staff_principal
from ..clock import now
from ..domain.kiosks import NewKioskRequest
from ..domain.survey import Store
from ..flows import existing_store
from ..flows.kiosk_pairing import new_pairing, revoke
from ..storage import stores
from .http import ApiBlueprint, json_response, parse_body

bp = ApiBlueprint(__name__)

# Surveys have no versions yet: a store's current survey is its version 1.
UNVERSIONED_SURVEY = 1


def _authorised_store(store_id: str) -> Store:
    staff_principal(bp.current_request.headers).require_store(store_id)
    return existing_store(store_id)


@bp.route("/v1/stores/{store_id}/survey", methods=["GET"])
def store_survey(store_id: str) -> Any:
    """The store's current survey as staff pages need it (scale, reason labels)."""
    store = _authorised_store(store_id)
    return store.survey.model_dump(mode="json") | {"version": UNVERSIONED_SURVEY}


@bp.route("/v1/stores/{store_id}/kiosks", methods=["POST"])
def create_kiosk(store_id: str) -> Any:
    _authorised_store(store_id)
    request = parse_body(bp.current_request, NewKioskRequest, empty_as="{}")
    return json_response(new_pairing(store_id, request.label, now()), 201)


@bp.route("/v1/stores/{store_id}/kiosks", methods=["GET"])
def list_kiosks(store_id: str) -> Any:
    _authorised_store(store_id)
    return {"kiosks": [k.model_dump(mode="json") for k in stores.list_kiosks(store_id)]}


@bp.route("/v1/stores/{store_id}/kiosks/{kiosk_id}/revoke", methods=["POST"])
def revoke_kiosk(store_id: str, kiosk_id: str) -> Any:
    _authorised_store(store_id)
    return revoke(store_id, kiosk_id, now()).model_dump(mode="json")
