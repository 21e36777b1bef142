"""Staff API for stores: create, list, read and edit them; their survey (read, save a new
version); their kiosks: issue pairing codes, list with their health, revoke; the fleet of
kiosks a manager or admin sees.

The flows and their models load on first use, inside each handler: the kiosk ingest path, a
cold-start budget, never needs them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..auth import staff_principal
from ..clock import now
from ..domain.kiosks import NewKioskRequest  # the kiosk path loads it anyway
from ..flows import existing_store
from .http import ApiBlueprint, json_response, parse_body, parse_query

if TYPE_CHECKING:
    from ..domain.survey import Store

bp = ApiBlueprint(__name__)


def _authorised_store(store_id: str) -> Store:
    staff_principal(bp.current_request.headers).require_store(store_id)
    return existing_store(store_id)


@bp.route("/v1/stores", methods=["POST"])
def create_store() -> Any:
    from ..domain.store_edits import NewStore, store_view
    from ..flows import stores as store_flows

    principal = staff_principal(bp.current_request.headers)
    request = parse_body(bp.current_request, NewStore)
    return json_response(store_view(store_flows.new_store(principal, request)), 201)


@bp.route("/v1/stores", methods=["GET"])
def list_stores() -> Any:
    from ..domain.store_edits import StoreQuery, store_view
    from ..flows import stores as store_flows

    principal = staff_principal(bp.current_request.headers)
    query = parse_query(bp.current_request.query_params, StoreQuery)
    return {"stores": [store_view(s) for s in store_flows.visible_stores(principal, query.region)]}


@bp.route("/v1/stores/{store_id}", methods=["GET"])
def read_store(store_id: str) -> Any:
    from ..domain.store_edits import store_view
    from ..flows import stores as store_flows

    principal = staff_principal(bp.current_request.headers)
    return store_view(store_flows.store_for(principal, store_id))


@bp.route("/v1/stores/{store_id}", methods=["PATCH"])
def change_store(store_id: str) -> Any:
    from ..domain.store_edits import StoreChanges, store_view
    from ..flows import stores as store_flows

    principal = staff_principal(bp.current_request.headers)
    changes = parse_body(bp.current_request, StoreChanges)
    return store_view(store_flows.change_store(principal, store_id, changes))


@bp.route("/v1/stores/{store_id}/survey", methods=["GET"])
def store_survey(store_id: str) -> Any:
    """The store's current survey, with its version, as stored now."""
    from ..flows import stores as store_flows

    principal = staff_principal(bp.current_request.headers)
    return store_flows.store_for(principal, store_id).survey.model_dump(mode="json")


@bp.route("/v1/stores/{store_id}/survey", methods=["PUT"])
def save_survey(store_id: str) -> Any:
    from ..domain.store_edits import SurveyChange
    from ..flows import stores as store_flows

    principal = staff_principal(bp.current_request.headers)
    change = parse_body(bp.current_request, SurveyChange)
    return store_flows.save_survey(principal, store_id, change, now()).model_dump(mode="json")


@bp.route("/v1/stores/{store_id}/kiosks", methods=["POST"])
def create_kiosk(store_id: str) -> Any:
    from ..flows.kiosk_pairing import new_pairing

    _authorised_store(store_id)
    request = parse_body(bp.current_request, NewKioskRequest, empty_as="{}")
    return json_response(new_pairing(store_id, request.label, now()), 201)


@bp.route("/v1/stores/{store_id}/kiosks", methods=["GET"])
def list_kiosks(store_id: str) -> Any:
    from ..flows.kiosk_health import store_kiosks

    return {"kiosks": store_kiosks(_authorised_store(store_id), now())}


@bp.route("/v1/kiosks", methods=["GET"])
def list_fleet() -> Any:
    from ..flows.kiosk_health import fleet

    return {"kiosks": fleet(staff_principal(bp.current_request.headers), now())}


@bp.route("/v1/stores/{store_id}/kiosks/{kiosk_id}/revoke", methods=["POST"])
def revoke_kiosk(store_id: str, kiosk_id: str) -> Any:
    from ..flows.kiosk_pairing import revoke

    _authorised_store(store_id)
    return revoke(store_id, kiosk_id, now()).model_dump(mode="json")
