"""Staff API for a store: its survey; its kiosks: issue pairing codes, list, revoke."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from chalice.app import Blueprint

from ..auth import staff_principal
from ..clock import now
from ..config import settings
from ..domain.kiosks import Kiosk, NewKioskRequest, new_kiosk_id, new_pairing_code
from ..errors import DependencyUnavailable, NotFound
from ..observability import logger
from ..storage import stores
from .http import json_response, parse_body

bp = Blueprint(__name__)

_CODE_ATTEMPTS = 5
# Surveys have no versions yet: a store's current survey is its version 1.
UNVERSIONED_SURVEY = 1


def _authorised_store(store_id: str) -> None:
    staff_principal(bp.current_request.headers).require_store(store_id)
    if stores.get_store(store_id) is None:
        raise NotFound(f"store {store_id} does not exist")


@bp.route("/v1/stores/{store_id}/survey", methods=["GET"])
def store_survey(store_id: str) -> Any:
    """The store's current survey as staff pages need it (scale, reason labels)."""
    _authorised_store(store_id)
    store = stores.get_store(store_id)
    if store is None:
        raise NotFound(f"store {store_id} does not exist")
    return store.survey.model_dump(mode="json") | {"version": UNVERSIONED_SURVEY}


@bp.route("/v1/stores/{store_id}/kiosks", methods=["POST"])
def create_kiosk(store_id: str) -> Any:
    _authorised_store(store_id)
    request = parse_body(bp.current_request, NewKioskRequest, empty_as="{}")
    created_at = now()
    expires_at = created_at + timedelta(seconds=settings().pairing_code_ttl_s)
    kiosk = Kiosk(
        kiosk_id=new_kiosk_id(),
        store_id=store_id,
        status="pending",
        label=request.label,
        created_at=created_at,
    )
    for _ in range(_CODE_ATTEMPTS):  # a live code is unique; collisions are rare, retry a few
        code = new_pairing_code()
        if stores.create_kiosk(kiosk, code, expires_at):
            break
    else:
        raise DependencyUnavailable("no free pairing code right now; retry", 1)
    logger.info("kiosk created", extra={"kiosk_id": kiosk.kiosk_id, "store_id": store_id})
    body = {
        "kiosk_id": kiosk.kiosk_id,
        "pairing_code": code,
        "expires_at": expires_at.isoformat(timespec="seconds"),
    }
    return json_response(body, 201)


@bp.route("/v1/stores/{store_id}/kiosks", methods=["GET"])
def list_kiosks(store_id: str) -> Any:
    _authorised_store(store_id)
    return {"kiosks": [k.model_dump(mode="json") for k in stores.list_kiosks(store_id)]}


@bp.route("/v1/stores/{store_id}/kiosks/{kiosk_id}/revoke", methods=["POST"])
def revoke_kiosk(store_id: str, kiosk_id: str) -> Any:
    _authorised_store(store_id)
    kiosk = stores.revoke_kiosk(store_id, kiosk_id, now())
    if kiosk is None:
        raise NotFound(f"kiosk {kiosk_id} does not exist in store {store_id}")
    logger.info("kiosk revoked", extra={"kiosk_id": kiosk_id, "store_id": store_id})
    return kiosk.model_dump(mode="json")
