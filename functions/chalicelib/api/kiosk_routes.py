"""Kiosk API: pairing, the survey to show, and rating ingest (flows/kiosk_pairing.py and
flows/kiosk_ingest.py)."""

from __future__ import annotations

from time import monotonic
from typing import Any

from chalice.app import Request, Response

from ..auth import kiosk_principal
from ..clock import now
from ..domain.kiosks import Heartbeat, PairingRequest
from ..domain.ratings import RatingBatchIn
from ..errors import Unauthorized
from ..flows import existing_store
from ..flows.kiosk_ingest import ingest_batch, retry_after
from ..storage.stores import record_heartbeat
from .http import ApiBlueprint, json_response, parse_body

bp = ApiBlueprint(__name__)


@bp.route("/v1/kiosks/pair", methods=["POST"])
def pair_kiosk() -> Any:
    from ..flows.kiosk_pairing import pair  # off the ingest path's cold start

    request = parse_body(bp.current_request, PairingRequest)
    return json_response(pair(request.pairing_code, _client(bp.current_request), now()), 201)


def _client(request: Request) -> str:
    """The caller's address as API Gateway saw it: wrong pairing codes are counted by it."""
    identity = (request.context or {}).get("identity") or {}
    return str(identity.get("sourceIp") or "unknown")[:64]


@bp.route("/v1/kiosk/survey", methods=["GET"])
def get_survey() -> Any:
    from ..flows.kiosk_pairing import kiosk_survey

    kiosk = kiosk_principal(bp.current_request.headers)
    return kiosk_survey(existing_store(kiosk.store_id))


@bp.route("/v1/kiosk/ratings", methods=["POST"])
def post_ratings() -> Any:
    started = monotonic()  # the request's deadline counts from here
    kiosk = kiosk_principal(bp.current_request.headers)
    batch = parse_body(bp.current_request, RatingBatchIn)
    store = existing_store(kiosk.store_id)
    results = ingest_batch(batch, kiosk, store, received_at=now(), started=started)
    wait = retry_after(results)  # some ratings answer `retry`: when to send them again
    return json_response({"results": results}, headers={"Retry-After": str(wait)} if wait else None)


@bp.route("/v1/kiosk/heartbeat", methods=["POST"])
def post_heartbeat() -> Any:
    kiosk = kiosk_principal(bp.current_request.headers)
    heartbeat = parse_body(bp.current_request, Heartbeat)
    if not record_heartbeat(kiosk.store_id, kiosk.kiosk_id, heartbeat, now()):
        raise Unauthorized("unknown kiosk; pair it again")
    return Response(body="", status_code=204)
