"""A store's ratings and satisfaction buckets as CSV, for managers' own reports
(flows/exports.py, loaded on first use)."""

from __future__ import annotations

from typing import Any, Literal
from urllib.parse import urlencode

from chalice.app import Request, Response
from pydantic import Field

from ..auth import staff_principal
from ..clock import now
from ..flows import existing_store
from .http import ApiBlueprint, PeriodQuery, parse_query

bp = ApiBlueprint(__name__)

CSV = "text/csv; charset=utf-8"
MAX_CURSOR_CHARS = 300  # a cursor names a tap time and a rating id: far shorter


class RatingsExportQuery(PeriodQuery):
    cursor: str | None = Field(default=None, min_length=1, max_length=MAX_CURSOR_CHARS)


class SatisfactionExportQuery(PeriodQuery):
    granularity: Literal["hour", "day", "week"] = "hour"


@bp.route("/v1/stores/{store_id}/ratings.csv", methods=["GET"])
def ratings_csv(store_id: str) -> Response:
    from ..flows.exports import ratings_page

    request = bp.current_request
    staff_principal(request.headers).require_store(store_id)
    query = parse_query(request.query_params, RatingsExportQuery)
    page = ratings_page(existing_store(store_id), query, query.cursor, now())
    headers = _attachment(f"{store_id}-ratings-{page.first_day}-{page.last_day}.csv")
    if page.next_cursor is not None:
        headers["Link"] = f'<{_next_url(request, store_id, page.next_cursor)}>; rel="next"'
    return Response(body=page.text, status_code=200, headers=headers)


@bp.route("/v1/stores/{store_id}/satisfaction.csv", methods=["GET"])
def satisfaction_csv(store_id: str) -> Response:
    from ..flows.exports import satisfaction_page

    request = bp.current_request
    staff_principal(request.headers).require_store(store_id)
    query = parse_query(request.query_params, SatisfactionExportQuery)
    page = satisfaction_page(existing_store(store_id), query, now())
    name = f"{store_id}-satisfaction-{query.granularity}-{page.first_day}-{page.last_day}.csv"
    return Response(body=page.text, status_code=200, headers=_attachment(name))


def _attachment(filename: str) -> dict[str, str | list[str]]:
    # The store exists, so its id is [a-z0-9-] (Store.store_id): safe inside the quotes.
    return {
        "Content-Type": CSV,
        "Content-Disposition": f'attachment; filename="{filename}"',
        # The staff page, on another origin, follows the pages' Link headers.
        "Access-Control-Expose-Headers": "Link, Retry-After, X-Correlation-Id",
    }


def _next_url(request: Request, store_id: str, cursor: str) -> str:
    """The same URL with `cursor=` the next page's: absolute where the request says its host
    (API Gateway's path includes the stage, so the URL is the one the client called)."""
    params: dict[str, Any] = dict(request.query_params or {})
    params["cursor"] = cursor
    context = request.context or {}
    path = context.get("path") or f"/v1/stores/{store_id}/ratings.csv"
    host = request.headers.get("host")
    origin = f"{request.headers.get('x-forwarded-proto', 'http')}://{host}" if host else ""
    return f"{origin}{path}?{urlencode(params)}"
