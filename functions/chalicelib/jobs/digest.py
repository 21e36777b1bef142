"""Each Monday, one message per store to its managers: CSAT and trend, top reasons,
callbacks on time, silent kiosks (the text: domain/digest.py).

Hourly: a store's digest is due from 08:00 on its local Monday, so each time zone gets its
own at its own morning, and a run that could not send one leaves it to the next. The claim
(storage/digests.py) is taken before the digest is read: every later run that day costs a
store one refused write, not its week's reads. A digest that could not be read or published
is released, so it is sent at most once and, while Monday lasts, at least once."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime

from ..config import settings
from ..domain.aggregates import Tally, next_bucket
from ..domain.digest import digest_due, digest_message, week_before
from ..domain.kiosks import kiosk_health
from ..domain.survey import Store
from ..errors import DependencyUnavailable
from ..flows.callback_tasks import store_recovery
from ..notify.topics import publish
from ..observability import logger
from ..storage import aggregates, digests, stores

# Well inside the function's 29 s timeout: stores not reached are due at the next run.
RUN_BUDGET_S = 20.0


def send_weekly_digests(
    now: datetime, *, budget_s: float = RUN_BUDGET_S, clock: Callable[[], float] = time.monotonic
) -> int:
    """Send the digests due at `now` (once per store and week); returns how many were sent.
    Past `budget_s` no further store is started."""
    deadline = clock() + budget_s
    sent = 0
    for store in stores.all_stores():
        if not digest_due(now, store.timezone):
            continue
        if clock() >= deadline:
            logger.info("out of time; the next run sends the rest", extra={"sent": sent})
            break
        try:
            if _send(store, now):
                sent += 1
        except DependencyUnavailable:
            logger.warning(
                "weekly digest not sent; the next run tries again",
                extra={"store_id": store.store_id},
            )
    return sent


def _send(store: Store, now: datetime) -> bool:
    start = week_before(now, store.timezone)
    claim = digests.claim_digest(store.store_id, start, now)
    if claim is None:  # sent already (or being sent by another run)
        return False
    try:
        subject, message = _digest(store, start, now)
        publish(
            settings().callbacks_topic,
            subject,
            message,
            # Managers subscribe to their regions' manager messages (domain.people
            # .notification_filters); staff, whose filter asks for audience "staff", do not.
            {"store_id": store.store_id, "kind": "weekly_digest", "audience": "manager"}
            | ({"region": store.region} if store.region else {}),
        )
    except Exception:  # a storage outage, the topic's, or a bug: not claimed for good
        _release(claim)
        raise
    logger.info("weekly digest sent", extra={"store_id": store.store_id, "week": claim.week})
    return True


def _release(claim: digests.DigestClaim) -> None:
    """Release a claim whose digest failed; the failure itself goes on to the caller."""
    try:
        digests.release_digest(claim)
    except DependencyUnavailable:
        # The claim stays: this week's digest of the store is not sent (at most once).
        logger.warning("weekly digest claim not released", extra={"store_id": claim.store_id})


def _digest(store: Store, start: datetime, now: datetime) -> tuple[str, str]:
    end = next_bucket(start, "week")
    previous = week_before(start, store.timezone)
    week, before = Tally(), Tally()
    # One Query for both weeks' days; a day belongs to the week its local start is in.
    for day, tally in aggregates.bucket_tallies(store.store_id, "day", previous, end).items():
        (week if datetime.fromisoformat(day) >= start else before).merge(tally)
    silent = [
        (kiosk.kiosk_id, kiosk.label)
        for kiosk in stores.list_kiosks(store.store_id)
        if kiosk.status == "paired" and kiosk_health(kiosk, store, now) == "silent"
    ]
    recovery = store_recovery(store, start, end, now)
    return digest_message(store, start, week, before, recovery, silent)
