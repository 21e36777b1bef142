"""Satisfaction per store and bucket (hour, day or week in the store's time zone), for one
store or, for managers and admins, a group (flows/satisfaction.py, loaded on first use)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator

from ..auth import staff_principal
from ..clock import now
from ..errors import BadRequest, Forbidden
from ..flows import existing_store
from .http import MAX_ID_CHARS, ApiBlueprint, PeriodQuery, parse_query

bp = ApiBlueprint(__name__)

MAX_GROUP = 100  # stores in one `store_ids`; each is two queries in one request


class SatisfactionQuery(PeriodQuery):
    granularity: Literal["hour", "day", "week"] = "hour"
    store_ids: str | None = None
    region: str | None = Field(default=None, min_length=1, max_length=MAX_ID_CHARS)

    @field_validator("store_ids")
    @classmethod
    def _few_short_ids(cls, value: str | None) -> str | None:
        if value is None:
            return None
        ids = value.split(",")
        if len(ids) > MAX_GROUP:
            raise ValueError(f"at most {MAX_GROUP} stores; leave store_ids out for all stores")
        if any(len(store_id.strip()) > MAX_ID_CHARS for store_id in ids):
            raise ValueError(f"store ids are at most {MAX_ID_CHARS} characters")
        return value


def _query() -> SatisfactionQuery:
    return parse_query(bp.current_request.query_params, SatisfactionQuery)


@bp.route("/v1/stores/{store_id}/satisfaction", methods=["GET"])
def store_satisfaction(store_id: str) -> Any:
    from ..flows.satisfaction import store_figures

    staff_principal(bp.current_request.headers).require_store(store_id)
    query = _query()
    if query.store_ids is not None or query.region is not None:
        raise BadRequest("store_ids and region are for /v1/satisfaction")
    return store_figures(existing_store(store_id), query, now())


@bp.route("/v1/satisfaction", methods=["GET"])
def group_satisfaction() -> Any:
    """A manager's or admin's view of a region (`region=west`: its total and each store),
    of a group of stores (`store_ids=a,b`) or of all the stores they may see (a manager's
    region, an admin's chain)."""
    from ..flows.satisfaction import group_figures, region_figures

    viewer = staff_principal(bp.current_request.headers)
    if viewer.role == "staff":
        raise Forbidden("the store-group view is for managers and admins")
    query = _query()
    if query.region is not None:
        if query.store_ids is not None:
            raise BadRequest("give region or store_ids, not both")
        return region_figures(viewer, query.region, query, now())
    store_ids = query.store_ids.split(",") if query.store_ids else None
    return group_figures(viewer, store_ids, query, now())
