"""Link survey API: the survey and rating ingest for a customer's phone, by the store code
on a printed QR code, with no token (flows/link_survey.py). The flow and its models load on
first use: the kiosk ingest path's cold start never needs them."""

from __future__ import annotations

import re
from time import monotonic
from typing import Any

from ..clock import now
from ..errors import NotFound
from ..flows.kiosk_ingest import retry_after
from .http import ApiBlueprint, json_response, parse_body
from .kiosk_routes import _client

bp = ApiBlueprint(__name__)

# A store id (domain/survey.py's Store): anything else names no store, without a read.
_STORE_CODE = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")


def _store_code(store_code: str) -> str:
    if not _STORE_CODE.match(store_code):
        raise NotFound(f"store {store_code[:64]} does not exist")
    return store_code


@bp.route("/v1/link/{store_code}/survey", methods=["GET"])
def get_link_survey(store_code: str) -> Any:
    from ..flows.link_survey import link_survey

    return link_survey(_store_code(store_code))


@bp.route("/v1/link/{store_code}/ratings", methods=["POST"])
def post_link_ratings(store_code: str) -> Any:
    started = monotonic()  # the request's deadline counts from here
    from ..domain.link import LinkBatchIn
    from ..flows.link_survey import ingest_link_batch

    code = _store_code(store_code)
    batch = parse_body(bp.current_request, LinkBatchIn)
    client = _client(bp.current_request)
    results = ingest_link_batch(code, batch, client, received_at=now(), started=started)
    wait = retry_after(results)
    return json_response({"results": results}, headers={"Retry-After": str(wait)} if wait else None)
