"""Aggregates computed straight from the raw ratings, for tests to compare the runs with.

The burst rule is written out again here, independently of `domain.ratings.find_bursts`:
in each kiosk's (store and kiosk id) run of at least 3 taps each within 15 s of the previous
(ties in time ordered by rating id), all but the first are repeat presses.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from chalicelib.domain.aggregates import GRANULARITIES, tally_ratings
from chalicelib.domain.ratings import Rating

GAP = timedelta(seconds=15)


def repeat_presses(ratings: Iterable[Rating]) -> set[str]:
    """Ids of the ratings the burst rule leaves out."""
    flagged: set[str] = set()
    taps_of: dict[tuple[str, str], list[Rating]] = {}
    for rating in ratings:
        if rating.channel == "kiosk":
            taps_of.setdefault((rating.store_id, rating.source_id), []).append(rating)
    for taps in taps_of.values():
        taps.sort(key=lambda tap: (tap.tapped_at, tap.rating_id))
        first = 0
        for index in range(1, len(taps) + 1):
            if index == len(taps) or taps[index].tapped_at - taps[index - 1].tapped_at > GAP:
                if index - first >= 3:
                    flagged.update(tap.rating_id for tap in taps[first + 1 : index])
                first = index
    return flagged


def expected_buckets(
    ratings: list[Rating], zones: dict[str, str]
) -> dict[tuple[str, str], dict[str, Any]]:
    """{(store, granularity): {bucket start: tally dump}} of every bucket with a rating."""
    flagged = repeat_presses(ratings)
    rows = [
        {
            "store_id": rating.store_id,
            "channel": rating.channel,
            "source_id": rating.source_id,
            "score": rating.score,
            "reasons": rating.reasons,
            "expectation": rating.expectation,
            "tapped_at": rating.tapped_at.isoformat(),
            "burst": rating.rating_id in flagged,
        }
        for rating in ratings
    ]
    figures: dict[tuple[str, str], dict[str, Any]] = {
        (store_id, granularity): {} for store_id in zones for granularity in GRANULARITIES
    }
    for (store_id, granularity, start), tally in tally_ratings(rows, zones).items():
        figures[store_id, granularity][start.isoformat()] = tally.model_dump()
    return figures
