"""Satisfaction per store and bucket (hour, day or week in the store's time zone)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from chalice.app import Blueprint
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ..auth import staff_principal
from ..domain.aggregates import Granularity, bucket_start, bucket_view, next_bucket
from ..domain.ratings import describe_errors
from ..domain.survey import Store
from ..errors import BadRequest, Forbidden, NotFound
from ..store import aggregates, stores
from .http import now

bp = Blueprint(__name__)

DEFAULT_SPAN = {"hour": timedelta(hours=24), "day": timedelta(days=30), "week": timedelta(weeks=12)}
MAX_SPAN = {"hour": timedelta(days=31), "day": timedelta(days=400), "week": timedelta(weeks=260)}


class SatisfactionQuery(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, defer_build=True)

    granularity: Literal["hour", "day", "week"] = "hour"
    start: datetime | date | None = Field(default=None, alias="from")
    end: datetime | date | None = Field(default=None, alias="to")
    store_ids: str | None = None

    @field_validator("start", "end", mode="before")
    @classmethod
    def _date_or_datetime(cls, value: object) -> object:
        """`2026-11-20` is a date (a whole day), `2026-11-20T13:00` a moment."""
        if isinstance(value, str) and len(value) == 10:
            return date.fromisoformat(value)
        return value


def _query() -> SatisfactionQuery:
    try:
        return SatisfactionQuery.model_validate(bp.current_request.query_params or {})
    except ValidationError as error:
        raise BadRequest("the query is not valid", describe_errors(error)) from None


def _local(value: datetime | date, zone: ZoneInfo, *, end: bool) -> datetime:
    """A date or date-time read in the store's zone; a date `to` includes that whole day."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=zone)
    moment = datetime(value.year, value.month, value.day, tzinfo=zone)
    return moment + timedelta(days=1) if end else moment


def satisfaction(store: Store, query: SatisfactionQuery, at: datetime) -> dict[str, Any]:
    zone = ZoneInfo(store.timezone)
    granularity: Granularity = query.granularity
    end = _local(query.end, zone, end=True) if query.end else at
    start = _local(query.start, zone, end=False) if query.start else end - DEFAULT_SPAN[granularity]
    if start >= end:
        raise BadRequest("`from` must be before `to`")
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
    store = stores.get_store(store_id)
    if store is None:
        raise NotFound(f"store {store_id} does not exist")
    return satisfaction(store, query, now())


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
