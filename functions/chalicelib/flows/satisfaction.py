"""Satisfaction figures per store and bucket (hour, day or week in the store's time zone),
for one store or a group, with the period just before for comparison.

Loaded on first use: the kiosk ingest path, a cold-start budget, never needs the
aggregates."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import Any, Protocol

from ..auth import StaffPrincipal
from ..domain.aggregates import Granularity, Tally, bucket_start, bucket_view, next_bucket
from ..domain.survey import Store
from ..errors import BadRequest, Forbidden, NotFound
from ..storage import aggregates, stores

DEFAULT_SPAN = {"hour": timedelta(hours=24), "day": timedelta(days=30), "week": timedelta(weeks=12)}
MAX_SPAN = {"hour": timedelta(days=31), "day": timedelta(days=400), "week": timedelta(weeks=260)}


class Asked(Protocol):
    """What the caller asks for: the buckets' size, and the period read in a store's zone."""

    @property
    def granularity(self) -> Granularity: ...

    def period(self, zone: str, at: datetime, default_span: timedelta) -> tuple[datetime, datetime]:
        """[start, end) in the store's zone `zone`; `default_span` if the start is left out."""
        ...


def group_figures(
    viewer: StaffPrincipal, store_ids: list[str] | None, asked: Asked, at: datetime
) -> dict[str, Any]:
    """The figures of each store of `store_ids` (ids as the caller wrote them, spaces around
    them ignored), or of every store `viewer` may see if None: a manager's region, an
    admin's chain. A named store the viewer may not see is Forbidden, also when it does not
    exist and the viewer is no admin (no probing of ids)."""
    if store_ids is None:
        group = [s for s in stores.all_stores() if viewer.can_see(s)]
    else:
        group = [_visible(viewer, store_id.strip()) for store_id in store_ids]
    return {
        "granularity": asked.granularity,
        "stores": [store_figures(s, asked, at) for s in group],
    }


def _visible(viewer: StaffPrincipal, store_id: str) -> Store:
    store = stores.get_store(store_id)
    if store is None and viewer.role == "admin":
        raise NotFound(f"store {store_id} does not exist")
    if store is None or not viewer.can_see(store):
        raise Forbidden(f"this credential is not allowed for store {store_id}")
    return store


def store_figures(store: Store, asked: Asked, at: datetime) -> dict[str, Any]:
    """The store's buckets over the asked period, and those of the period before it."""
    granularity = asked.granularity
    first, stop = _period(store, asked, at)
    earlier = bucket_start(first - (stop - first), store.timezone, granularity)
    return {
        "store_id": store.store_id,
        "timezone": store.timezone,
        "granularity": granularity,
        "buckets": _buckets(store, granularity, first, stop),
        "previous": _buckets(store, granularity, earlier, first),
    }


def region_figures(
    viewer: StaffPrincipal, region: str, asked: Asked, at: datetime
) -> dict[str, Any]:
    """The stores of `region` and the region's total, bucket by bucket, summed from the
    stores' counts (never an average of their means). Buckets are matched by their local
    wall-clock start, so stores in different zones add up hour by hour of their own day;
    the total's starts carry the first store's offset. Only the stores on the region's most
    common scale are in the total (a mean of 1-5 and 0-10 answers means nothing); the others
    are listed on their own."""
    if viewer.role != "admin" and region not in viewer.regions:
        raise Forbidden(f"this credential is not allowed for region {region}")
    group = sorted(
        (s for s in stores.all_stores() if s.region == region),
        key=lambda s: s.store_id,
    )
    scales = Counter((s.survey.scale.min, s.survey.scale.max) for s in group)
    common = scales.most_common(1)[0][0] if group else None
    totals: dict[str, tuple[datetime, Tally]] = {}
    listed = []
    for store in group:
        first, stop = _period(store, asked, at)
        tallies = _tallies(store, asked.granularity, first, stop)
        listed.append({"store_id": store.store_id, "buckets": _views(store, tallies)})
        if (store.survey.scale.min, store.survey.scale.max) != common:
            continue
        for start, tally in tallies.items():
            wall = start.replace(tzinfo=None).isoformat()
            _, total = totals.setdefault(wall, (start, Tally()))
            total.merge(tally)
    # A store on the common scale, not the first: that one may be on another.
    scale = next(
        (s.survey.scale for s in group if (s.survey.scale.min, s.survey.scale.max) == common), None
    )
    views = [
        bucket_view(start, tally, scale)
        for _, (start, tally) in sorted(totals.items())
        if scale and (tally.responses or tally.filtered)
    ]
    return {"total": {"buckets": views}, "stores": listed}


def _period(store: Store, asked: Asked, at: datetime) -> tuple[datetime, datetime]:
    """The first bucket's start and the start of the bucket after the last, in the store's zone."""
    granularity = asked.granularity
    start, end = asked.period(store.timezone, at, DEFAULT_SPAN[granularity])
    if end - start > MAX_SPAN[granularity]:
        raise BadRequest(f"at most {MAX_SPAN[granularity].days} days of {granularity} buckets")
    first = bucket_start(start, store.timezone, granularity)
    last = bucket_start(end - timedelta(microseconds=1), store.timezone, granularity)
    return first, next_bucket(last, granularity)


def _tallies(
    store: Store, granularity: Granularity, start: datetime, stop: datetime
) -> dict[datetime, Tally]:
    tallies = aggregates.bucket_tallies(store.store_id, granularity, start, stop)
    return {datetime.fromisoformat(key): tally for key, tally in tallies.items()}


def _views(store: Store, tallies: dict[datetime, Tally]) -> list[Any]:
    views = [
        bucket_view(start, tally, store.survey.scale)
        for start, tally in tallies.items()
        if tally.responses or tally.filtered
    ]
    return sorted(views, key=lambda view: datetime.fromisoformat(view["start"]))


def _buckets(store: Store, granularity: Granularity, start: datetime, stop: datetime) -> list[Any]:
    return _views(store, _tallies(store, granularity, start, stop))
