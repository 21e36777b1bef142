"""After aggregation: alert a store whose last hour or day is significantly worse than its
own baseline (the rule is in domain/alerts.py), once per incident: an alert starts the
store's cool-down (`alert_cooldown_hours`), and the bad day that holds an alerted hour is
the same incident."""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from ..config import settings
from ..domain.aggregates import Granularity, Tally, bucket_start, next_bucket
from ..domain.alerts import BASELINE_DAYS, alert_message, significantly_worse
from ..domain.survey import Store
from ..domain.webhooks import event_text
from ..errors import DependencyUnavailable
from ..flows.webhooks import queue_event
from ..notify.topics import publish
from ..observability import logger
from ..storage import aggregates, stores


def check_alerts(store_ids: list[str], now: datetime) -> list[str]:
    """Raise the alerts due for these stores at `now`; returns their
    `store/granularity/start` ids. The hour is checked first: when it alerts, the day (which
    holds it) is the same incident."""
    raised = []
    for store_id in store_ids:
        store = stores.get_store(store_id)
        if store is None:
            continue
        for granularity in ("hour", "day"):
            start = _last_closed(store, granularity, now)
            if _alert(store, granularity, start, now):
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


def _alert(store: Store, granularity: Granularity, start: datetime, now: datetime) -> bool:
    end = next_bucket(start, granularity)
    window = _summed(store, granularity, start, end)
    # The whole days before the window's day: an hour's own day is not its baseline.
    day = bucket_start(start, store.timezone, "day")
    baseline = _summed(store, "day", day - timedelta(days=BASELINE_DAYS), day)
    scale = store.survey.scale
    if not significantly_worse(window, baseline, scale):
        return False
    quiet_until = now + timedelta(hours=settings().alert_cooldown_hours)
    claim = aggregates.claim_alert(store.store_id, start, end, now, quiet_until)
    if claim is None:  # cooling down, the same incident, or another run sent it
        return False
    message = alert_message(
        store_name=store.name,
        period=granularity,
        start=start,
        window=window,
        baseline=baseline,
        scale=scale,
        quiet_until=quiet_until.astimezone(ZoneInfo(store.timezone)),
    )
    try:
        publish(
            settings().alerts_topic,
            f"storepulse alert: {store.name}",
            message,
            {"store_id": store.store_id, "kind": "satisfaction_alert", "granularity": granularity}
            # Managers subscribe by region (notify/subscriptions.py).
            | ({"region": store.region} if store.region else {}),
        )
    except DependencyUnavailable:
        aggregates.release_alert(claim)
        logger.warning("store alert not sent; the next run tries again")
        return False
    logger.info("store alert raised", extra={"store_id": store.store_id, "period": granularity})
    # Best effort: the alert's claim makes this once per store and window.
    with contextlib.suppress(DependencyUnavailable):
        data = {"kind": "satisfaction_alert", "granularity": granularity}
        data |= {"window_start": start.isoformat(), "message": event_text(message)}
        event_id = f"alert.{store.store_id}.{granularity}.{int(start.timestamp())}"
        queue_event(store.store_id, "store_alert", data, event_id, now)
    return True
