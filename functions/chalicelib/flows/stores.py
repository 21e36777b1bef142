"""Stores and their surveys, as admins and managers create and edit them.

Who may: staff see their stores; a manager sees and edits the stores of their regions
(creates stores there, never moves one out); an admin everything (`auth.StaffPrincipal`).

A survey save makes version + 1, conditional on the version read: of two saves at once one
is refused (409). The replaced version is kept (`storage.stores.kept_surveys`). Kiosks show
the new version from their next survey refresh after the store cache (`store_cache_s`) of
the container that answers them.

The scale is locked once the store has ratings (`scale_locked`): figures are computed on
the store's current scale, so ratings of another scale would be counted wrong. A store has
ratings when a scheduled aggregation run counted some (an hourly partial exists), or when
some arrived since the runs' watermark (the arrivals index, filtered to the store)."""

from __future__ import annotations

import random
import time
from datetime import datetime, timedelta
from typing import Literal

from ..auth import StaffPrincipal
from ..domain.store_edits import NewStore, StoreChanges, SurveyChange
from ..domain.survey import DEFAULT_SURVEY, Store, Survey
from ..errors import Conflict, NotFound, ScaleLocked, StoreExists
from ..observability import logger
from ..storage import ratings, stores
from ..storage.dynamodb import busy as storage_busy

# What the first aggregation run reads of a new table (jobs/aggregate.FIRST_RUN_LOOKBACK):
# arrivals older than that without a watermark are counted by no run, nor looked for here.
_NO_WATERMARK_LOOKBACK = timedelta(days=1)
_SAVE_ATTEMPTS = 3


def create_store(store: Store) -> Literal["created", "exists"]:
    """Create the store; one with its id already there is left as it is ("exists")."""
    if not stores.create_store(store):
        return "exists"
    logger.info("store created", extra={"store_id": store.store_id})
    return "created"


def new_store(principal: StaffPrincipal, request: NewStore) -> Store:
    """A store created by an admin, or by a manager in their region, with the default
    survey (version 1); StoreExists if its id is taken."""
    store = request.store(DEFAULT_SURVEY)
    principal.require_manage(store)
    if create_store(store) == "exists":
        raise StoreExists(f"store {store.store_id} exists already")
    return store


def visible_stores(principal: StaffPrincipal, region: str | None) -> list[Store]:
    """The stores the caller may see (of `region`, if given), by id."""
    if principal.role == "staff":
        candidates = stores.stores_by_id(sorted(principal.store_ids))
    else:
        candidates = stores.all_stores()
    return [
        store
        for store in candidates
        if (region is None or store.region == region) and principal.can_see(store)
    ]


def store_for(principal: StaffPrincipal, store_id: str) -> Store:
    """The store as stored now, for someone who may see it."""
    principal.require_store(store_id)
    store = stores.read_store(store_id)
    if store is None:
        raise NotFound(f"store {store_id} does not exist")
    return store


def change_store(principal: StaffPrincipal, store_id: str, changes: StoreChanges) -> Store:
    """The store with `changes` written: by someone who manages it, and (a manager) still
    in their region afterwards."""
    store = store_for(principal, store_id)
    principal.require_manage(store)
    changed = changes.applied_to(store)
    principal.require_manage(changed)
    if changes.model_fields_set and not stores.update_profile(changed, changes.model_fields_set):
        raise NotFound(f"store {store_id} does not exist")
    logger.info(
        "store changed", extra={"store_id": store_id, "fields": sorted(changes.model_fields_set)}
    )
    return stores.read_store(store_id) or changed


def save_survey(
    principal: StaffPrincipal, store_id: str, change: SurveyChange, at: datetime
) -> Survey:
    """The store's next survey version, saved; Conflict if another was saved since the one
    the change edits, ScaleLocked if it changes the scale of a store with ratings."""
    store = store_for(principal, store_id)
    principal.require_manage(store)
    current = store.survey
    if change.version is not None and change.version != current.version:
        raise Conflict(
            f"the survey is at version {current.version}; this edits version {change.version}"
        )
    survey = change.survey(current)
    if survey.scale != current.scale and has_ratings(store_id, at):
        raise ScaleLocked(
            "the scale cannot change: the store has ratings on it (docs/api.md, Surveys)"
        )
    for attempt in range(_SAVE_ATTEMPTS):
        if stores.save_survey(store_id, survey, current, at):
            break
        saved = stores.read_store(store_id)
        if saved is None:
            raise NotFound(f"store {store_id} does not exist")
        if saved.survey.version != current.version:
            raise Conflict(f"another save made version {saved.survey.version} meanwhile")
        # Cancelled with the version unchanged: a transaction on these items was still in
        # flight (another save, which then wins). Asked again, the version decides.
        time.sleep(random.uniform(0, 0.1 * 2**attempt))  # noqa: S311 (jitter)
    else:
        raise storage_busy()
    logger.info("survey saved", extra={"store_id": store_id, "version": survey.version})
    return survey


def has_ratings(store_id: str, at: datetime) -> bool:
    """Whether the store has collected ratings: counted by a run, or arrived since."""
    # Imported here: the aggregates layer is the scheduled run's, not the API's cold start.
    from ..storage import aggregates

    if aggregates.has_partials(store_id):
        return True
    start = aggregates.watermark() or at - _NO_WATERMARK_LOOKBACK
    return ratings.store_had_arrivals(store_id, start, at)
