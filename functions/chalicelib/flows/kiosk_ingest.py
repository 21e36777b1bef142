"""Rating ingest from a kiosk: each rating of a batch validated and stored on its own, so one
bad rating or one failed write never blocks the others; the answer says, per rating, what
became of it (a failed write: `retry`, which the kiosk sends again). Each request works to a
deadline (STOREPULSE_INGEST_DEADLINE_S). This is the kiosk's hot path (a cold-start budget):
it imports only what the kiosk API loads anyway."""

from __future__ import annotations

import time
from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.metrics import MetricUnit
from pydantic import ValidationError

from ..auth import KioskPrincipal
from ..config import settings
from ..domain.ratings import (
    Rating,
    RatingBatchIn,
    accept_kiosk_rating,
    describe_errors,
    find_bursts,
)
from ..domain.survey import Channel, Store
from ..errors import DependencyUnavailable
from ..observability import logger, metrics
from ..storage import ratings, stores, visits
from ..storage.dynamodb import MAX_CONNECTIONS, worst_call_s

if TYPE_CHECKING:
    from concurrent.futures import ThreadPoolExecutor

RETRY = "retry"
# At most one read of a store per this many seconds for ratings that name a newer survey
# version than this function's copy (`_current_store`), whatever a kiosk sends.
STORE_REFRESH_GAP_S = 10.0


def ingest_batch(
    batch: RatingBatchIn,
    kiosk: KioskPrincipal,
    store: Store,
    received_at: datetime,
    started: float | None = None,
    channel: Channel = "kiosk",
) -> list[dict[str, Any]]:
    """Validate and store each rating on its own: `stored`, `duplicate` (stored before, or
    twice in the batch), `rejected` with the reason, or `retry` (its write failed, or could
    not start before the deadline: STOREPULSE_INGEST_DEADLINE_S after `started`, the
    request's `time.monotonic()`, or after now).

    Raises DependencyUnavailable, with every rating's result in its details, when the batch
    needed writes and none of them was done (docs/api.md: "nothing could be written")."""
    store = _current_store(store, batch)
    checked = [_check(raw, batch, kiosk, store, received_at, channel) for raw in batch.ratings]
    accepted = [item for item in checked if isinstance(item, Rating)]
    bursts = find_bursts([(rating.rating_id, rating.tapped_at) for rating in accepted])
    to_write: dict[str, Rating] = {}
    for rating in accepted:
        if rating.rating_id not in to_write:
            burst = rating.rating_id in bursts
            to_write[rating.rating_id] = (
                rating.model_copy(update={"burst": True}) if burst else rating
            )
    deadline = (time.monotonic() if started is None else started) + settings().ingest_deadline_s
    written = _write_all(list(to_write.values()), deadline)

    results: list[dict[str, Any]] = []
    answered: set[str] = set()
    for item in checked:
        if not isinstance(item, Rating):
            results.append(item)  # rejected, with its reason
            continue
        status = written[item.rating_id]
        if item.rating_id in answered and status != RETRY:
            status = "duplicate"  # twice in the batch: the second copy was not written
        answered.add(item.rating_id)
        results.append({"rating_id": item.rating_id, "status": status})
    counts = _count(results)
    if to_write and all(status == RETRY for status in written.values()):
        raise DependencyUnavailable(
            "storage is busy or unavailable: no rating could be written; retry later",
            retry_after=settings().retry_after_s,
            details=[{"rating_id": r["rating_id"], "status": r["status"]} for r in results],
        )
    # Routine batches are in the metrics; a log line is written when something is off.
    off = counts.get("rejected") or counts.get("duplicate") or counts.get(RETRY)
    (logger.info if off else logger.debug)(
        "ratings ingested", extra={"kiosk_id": kiosk.kiosk_id, "store_id": kiosk.store_id, **counts}
    )
    return results


def _current_store(store: Store, batch: RatingBatchIn) -> Store:
    """The store to check the batch against: this function's copy (cached `store_cache_s`),
    unless a rating names a newer survey version. Then the kiosk synced from a function that
    read the store after a save, and its ratings answered that version (a new scale: checked
    against the old one they would be refused and lost): the store is read again, once per
    STORE_REFRESH_GAP_S at most. Steady state: no read."""
    sent = (raw.get("survey_version") for raw in batch.ratings)
    newest = max((v for v in sent if type(v) is int), default=0)
    if newest <= store.survey.version:
        return store
    try:
        return stores.reread_store(store.store_id, STORE_REFRESH_GAP_S) or store
    except DependencyUnavailable:
        return store  # checked against the copy at hand, as before the save was known


def retry_after(results: list[dict[str, Any]]) -> int | None:
    """When to send the `retry` ratings of these results again (seconds), if there are any."""
    return settings().retry_after_s if any(r["status"] == RETRY for r in results) else None


def _write_all(to_write: list[Rating], deadline: float) -> dict[str, str]:
    """Each rating's write: `stored`, `duplicate` or `retry`. The writes are independent,
    so a batch's are sent together (a few at a time): a batch takes about as long as its
    slowest write, and a stalled write holds up no other."""
    if len(to_write) <= 1:
        return {rating.rating_id: _write(rating, deadline) for rating in to_write}
    futures = [(rating.rating_id, _pool().submit(_write, rating, deadline)) for rating in to_write]
    return {rating_id: future.result() for rating_id, future in futures}


def _write(rating: Rating, deadline: float) -> str:
    # A write that starts must be able to end before the deadline, at its worst: the rest
    # of the batch answers `retry` rather than the request outliving API Gateway's 29 s.
    if time.monotonic() + worst_call_s() > deadline:
        return RETRY
    try:
        if rating.visit_ref:
            # The visit's answer is claimed first; the claim is the rating's own (a resend
            # claims it again), so a rating whose write then cannot start is still `retry`.
            rating = visits.counted(rating)
            if time.monotonic() + worst_call_s() > deadline:
                return RETRY
        return "stored" if ratings.put_rating(rating) else "duplicate"
    except DependencyUnavailable:
        # Throttled, failed, timed out or dropped; perhaps written all the same (a 500 or a
        # dropped connection after the write): the conditional write makes the resend
        # answer `duplicate`, never count twice.
        return RETRY


@lru_cache(maxsize=1)
def _pool() -> ThreadPoolExecutor:
    """Writer threads, started on the first batch of several ratings (not at cold start)."""
    from concurrent.futures import ThreadPoolExecutor

    return ThreadPoolExecutor(max_workers=MAX_CONNECTIONS, thread_name_prefix="ingest")


def _check(
    raw: dict[str, Any],
    batch: RatingBatchIn,
    kiosk: KioskPrincipal,
    store: Store,
    received_at: datetime,
    channel: Channel,
) -> Rating | dict[str, Any]:
    """The rating to store, or the `rejected` result that says why not."""
    try:
        return accept_kiosk_rating(
            raw,
            survey=store.survey,
            store_id=kiosk.store_id,
            kiosk_id=kiosk.kiosk_id,
            sent_at=batch.sent_at,
            received_at=received_at,
            channel=channel,
        )
    except ValidationError as error:
        return _rejected(raw, error)


def _rejected(raw: dict[str, Any], error: ValidationError) -> dict[str, Any]:
    details = describe_errors(error)
    message = "; ".join(f"{d['field']}: {d['message']}" for d in details)
    rating_id = raw.get("rating_id") if isinstance(raw.get("rating_id"), str) else None
    return {
        "rating_id": rating_id,
        "status": "rejected",
        "error": {"code": "invalid_rating", "message": message, "details": details},
    }


def _count(results: list[dict[str, Any]]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for result in results:
        counts[result["status"]] = counts.get(result["status"], 0) + 1
    for status, count in counts.items():
        metrics.add_metric(name=f"ratings_{status}", unit=MetricUnit.Count, value=count)
    return counts
