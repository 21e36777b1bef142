"""After aggregation: alert a store whose last hour or day is significantly worse than its
own baseline (the rule is in domain/alerts.py), once per bucket."""

from __future__ import annotations

from datetime import datetime, timedelta

from ..config import settings
from ..domain.aggregates import Granularity, Tally, bucket_start, top_box
from ..domain.alerts import BASELINE_DAYS, satisfied, significantly_worse
from ..domain.survey import Store
from ..errors import DependencyUnavailable
from ..notify.topics import publish
from ..observability import logger
from ..store import aggregates, stores


def check_alerts(store_ids: list[str], now: datetime) -> list[str]:
    """Raise the alerts due for these stores; returns their `store/granularity/start` ids."""
    raised = []
    for store_id in store_ids:
        store = stores.get_store(store_id)
        if store is None:
            continue
        for granularity in ("hour", "day"):
            start = _last_closed(store, granularity, now)
            if _alert(store, granularity, start):
                raised.append(f"{store_id}/{granularity}/{start.isoformat()}")
    return raised


def _last_closed(store: Store, granularity: Granularity, now: datetime) -> datetime:
    current = bucket_start(now, store.timezone, granularity)
    return bucket_start(current - timedelta(minutes=1), store.timezone, granularity)


def _summed(store: Store, granularity: Granularity, start: datetime, end: datetime) -> Tally:
    total = Tally()
    for tally in aggregates.bucket_tallies(store.store_id, granularity, start, end).values():
        total.merge(tally)
    return total


def _alert(store: Store, granularity: Granularity, start: datetime) -> bool:
    end = start + (timedelta(hours=1) if granularity == "hour" else timedelta(days=1))
    window = _summed(store, granularity, start, end)
    baseline = _summed(store, "day", start - timedelta(days=BASELINE_DAYS), start)
    scale = store.survey.scale
    if not significantly_worse(window, baseline, scale):
        return False
    if not aggregates.claim_alert(store.store_id, granularity, start):
        return False
    csat = satisfied(window, scale) / window.responses
    usual = satisfied(baseline, scale) / baseline.responses
    reasons = ", ".join(
        f"{name} ({count})"
        for name, count in sorted(window.reasons.items(), key=lambda r: -r[1])[:3]
    )
    period = "hour" if granularity == "hour" else "day"
    message = (
        f"{store.name}: satisfaction in the {period} from {start:%Y-%m-%d %H:%M} was "
        f"{csat:.0%} ({window.responses} answers; {top_box(scale)}+ counts as satisfied), "
        f"against {usual:.0%} over the previous {BASELINE_DAYS} days."
        + (f" Top reasons: {reasons}." if reasons else "")
    )
    try:
        publish(
            settings().alerts_topic,
            f"storepulse alert: {store.name}",
            message,
            {"store_id": store.store_id, "kind": "satisfaction_alert", "granularity": period},
        )
    except DependencyUnavailable:
        aggregates.release_alert(store.store_id, granularity, start)
        logger.warning("store alert not sent; the next run tries again")
        return False
    logger.info("store alert raised", extra={"store_id": store.store_id, "period": period})
    return True
