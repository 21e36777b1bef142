"""Satisfaction per store and bucket (hour, day or week in the store's time zone)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import field_validator

from ..auth import staff_principal
from ..clock import now
from ..domain.aggregates import Granularity, bucket_start, bucket_view, next_bucket
from ..domain.survey import Store
from ..errors import BadRequest, Forbidden, NotFound
from ..flows import existing_store
from ..storage import aggregates, stores
from .http import MAX_ID_CHARS, ApiBlueprint, PeriodQuery, parse_query

bp = ApiBlueprint(__name__)

DEFAULT_SPAN = {"hour": timedelta(hours=24), "day": timedelta(days=30), "week": timedelta(weeks=12)}
MAX_SPAN = {"hour": timedelta(days=31), "day": timedelta(days=400), "week": timedelta(weeks=260)}
MAX_GROUP = 100  # stores in one `store_ids`; each is two queries in one request


class SatisfactionQuery(PeriodQuery):
    granularity: Literal["hour", "day", "week"] = "hour"
    store_ids: str | None = None

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


def satisfaction(store: Store, query: SatisfactionQuery, at: datetime) -> dict[str, Any]:
    granularity: Granularity = query.granularity
    start, end = query.period(store.timezone, at, DEFAULT_SPAN[granularity])
    if end - start > MAX_SPAN[granularity]:
        raise BadRequest(f"at most {MAX_SPAN[granularity].days} days of {granularity} buckets")
    first = bucket_start(start, store.timezone, granularity)
    last = bucket_start(end - timedelta(microseconds=1), store.timezone, granularity)
    stop = next_bucket(last, granularity)
    earlier = bucket_start(first - (stop - first), store.timezone, granularity)
    return {
        "store_id": store.store_id,
        "timezone": store.timezone,
        "granularity": granularity,
        "buckets": _buckets(store, granularity, first, stop),
        "previous": _buckets(store, granularity, earlier, first),
    }


def _buckets(store: Store, granularity: Granularity, start: datetime, stop: datetime) -> list[Any]:
    tallies = aggregates.bucket_tallies(store.store_id, granularity, start, stop)
    views = [
        bucket_view(datetime.fromisoformat(key), tally, store.survey.scale)
        for key, tally in tallies.items()
        if tally.responses or tally.filtered
    ]
    return sorted(views, key=lambda view: datetime.fromisoformat(view["start"]))


@bp.route("/v1/stores/{store_id}/satisfaction", methods=["GET"])
def store_satisfaction(store_id: str) -> Any:
    staff_principal(bp.current_request.headers).require_store(store_id)
    query = _query()
    if query.store_ids is not None:
        raise BadRequest("store_ids is for /v1/satisfaction")
    return satisfaction(existing_store(store_id), query, now())


@bp.route("/v1/satisfaction", methods=["GET"])
def group_satisfaction() -> Any:
    """An admin's view of a group of stores (`store_ids=a,b`) or of all stores."""
    principal = staff_principal(bp.current_request.headers)
    if principal.role != "admin":
        raise Forbidden("the store-group view is for admins")
    query = _query()
    wanted = query.store_ids.split(",") if query.store_ids else stores.list_store_ids()
    views = []
    for store_id in wanted:
        store = stores.get_store(store_id.strip())
        if store is None:
            raise NotFound(f"store {store_id} does not exist")
        views.append(satisfaction(store, query, now()))
    return {"granularity": query.granularity, "stores": views}
