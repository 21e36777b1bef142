"""Kiosk API: pairing, the survey to show, and rating ingest."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from chalice.app import Blueprint, Request
from pydantic import ValidationError

from ..auth import KioskPrincipal, issue_kiosk_token, kiosk_principal
from ..clock import now
from ..config import settings
from ..domain.consent import kiosk_survey_consent
from ..domain.kiosks import PairingRequest
from ..domain.ratings import (
    Rating,
    RatingBatchIn,
    accept_kiosk_rating,
    describe_errors,
    find_bursts,
)
from ..domain.survey import Store
from ..errors import DependencyUnavailable, NotFound, RateLimited, Unauthorized
from ..observability import logger, metrics
from ..storage import limits, ratings, stores
from .http import json_response, parse_body

bp = Blueprint(__name__)


def kiosk_survey(store: Store) -> dict[str, Any]:
    """The survey as a kiosk needs it, with the store's name and phone country, and the
    callback consent text to show (its version comes back with the callback)."""
    return {
        **store.survey.model_dump(mode="json"),
        "store_name": store.name,
        "country": store.country,
        "consent": kiosk_survey_consent(),
    }


def _store_of(store_id: str) -> Store:
    store = stores.get_store(store_id)
    if store is None:
        raise NotFound(f"store {store_id} does not exist")
    return store


@bp.route("/v1/kiosks/pair", methods=["POST"])
def pair_kiosk() -> Any:
    request = parse_body(bp.current_request, PairingRequest)
    tries, window = _pairing_limits(bp.current_request), _pairing_window()
    if not limits.count_attempt(tries, window):
        raise RateLimited(
            "too many pairing attempts; wait before trying again", window.seconds_left(now())
        )
    kiosk = stores.redeem_pairing_code(request.pairing_code, now())
    if kiosk is None:
        raise Unauthorized(
            "the pairing code is unknown, used or expired", code="invalid_pairing_code"
        )
    limits.uncount_attempt(tries, window)
    store = _store_of(kiosk.store_id)
    logger.info("kiosk paired", extra={"kiosk_id": kiosk.kiosk_id, "store_id": kiosk.store_id})
    body = {
        "kiosk_id": kiosk.kiosk_id,
        "store_id": kiosk.store_id,
        "token": issue_kiosk_token(kiosk.kiosk_id, kiosk.store_id, now()),
        "survey": kiosk_survey(store),
    }
    return json_response(body, 201)


def _pairing_limits(request: Request) -> list[limits.Limit]:
    """Wrong codes per client, and from everyone together: a code names no store until it
    is found, so the whole code space is the target (docs/security.md: the odds)."""
    config = settings()
    identity = (request.context or {}).get("identity") or {}
    client = str(identity.get("sourceIp") or "unknown")[:64]
    return [
        limits.Limit(f"pairing-client:{client}", config.pairing_tries_per_client),
        limits.Limit("pairing-all", config.pairing_tries_per_window),
    ]


def _pairing_window() -> limits.Window:
    return limits.Window.at(now(), settings().pairing_window_s)


@bp.route("/v1/kiosk/survey", methods=["GET"])
def get_survey() -> Any:
    kiosk = kiosk_principal(bp.current_request.headers)
    return kiosk_survey(_store_of(kiosk.store_id))


@bp.route("/v1/kiosk/ratings", methods=["POST"])
def post_ratings() -> Any:
    kiosk = kiosk_principal(bp.current_request.headers)
    batch = parse_body(bp.current_request, RatingBatchIn)
    results = ingest_batch(batch, kiosk, _store_of(kiosk.store_id), received_at=now())
    return {"results": results}


def ingest_batch(
    batch: RatingBatchIn, kiosk: KioskPrincipal, store: Store, received_at: datetime
) -> list[dict[str, Any]]:
    """Validate and store each rating on its own: one bad rating never blocks the others."""
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
