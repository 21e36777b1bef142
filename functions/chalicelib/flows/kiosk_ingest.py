"""Rating ingest from a kiosk: each rating of a batch validated and stored on its own, so one
bad rating never blocks the others; the answer says, per rating, what became of it. This is
the kiosk's hot path (a cold-start budget): it imports only what the kiosk API loads anyway."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from pydantic import ValidationError

from ..auth import KioskPrincipal
from ..domain.ratings import (
    Rating,
    RatingBatchIn,
    accept_kiosk_rating,
    describe_errors,
    find_bursts,
)
from ..domain.survey import Store
from ..errors import DependencyUnavailable
from ..observability import logger, metrics
from ..storage import ratings


def ingest_batch(
    batch: RatingBatchIn, kiosk: KioskPrincipal, store: Store, received_at: datetime
) -> list[dict[str, Any]]:
    """Validate and store each rating on its own: `stored`, `duplicate` (stored before, or
    twice in the batch) or `rejected` with the reason, in the batch's order."""
    checked = [_check(raw, batch, kiosk, store, received_at) for raw in batch.ratings]
    accepted = [item for item in checked if isinstance(item, Rating)]
    bursts = find_bursts([(rating.rating_id, rating.tapped_at) for rating in accepted])
    results: list[dict[str, Any]] = []
    seen: set[str] = set()
    for item in checked:
        if not isinstance(item, Rating):
            results.append(item)  # rejected, with its reason
        elif item.rating_id in seen:
            results.append({"rating_id": item.rating_id, "status": "duplicate"})
        else:
            seen.add(item.rating_id)
            rating = item.model_copy(update={"burst": True}) if item.rating_id in bursts else item
            try:
                stored = ratings.put_rating(rating)
            except DependencyUnavailable as error:
                # What is stored already answers `duplicate` on the retry.
                error.details = [
                    {"rating_id": r["rating_id"], "status": r["status"]} for r in results
                ]
                _count(results)
                raise
            results.append(
                {"rating_id": rating.rating_id, "status": "stored" if stored else "duplicate"}
            )
    counts = _count(results)
    # Routine batches are in the metrics; a log line is written when something is off.
    log = logger.info if counts.get("rejected") or counts.get("duplicate") else logger.debug
    log(
        "ratings ingested", extra={"kiosk_id": kiosk.kiosk_id, "store_id": kiosk.store_id, **counts}
    )
    return results


def _check(
    raw: dict[str, Any],
    batch: RatingBatchIn,
    kiosk: KioskPrincipal,
    store: Store,
    received_at: datetime,
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
