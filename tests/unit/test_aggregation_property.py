"""Property: however runs are timed, retried or killed, and whatever arrives late or twice,
the incremental aggregates equal the figures computed straight from the raw ratings (repeat
presses included, however their taps arrived), and so does a rebuild from any SINCE after
them (moto, for speed; HYPOTHESIS_PROFILE=thorough for ten times the examples, see
tests/unit/conftest.py)."""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib.domain.ratings import Rating
from chalicelib.jobs.aggregate import aggregate, rebuild
from chalicelib.storage import aggregates, ratings, stores
from devtools import dynamodb_local
from tests.conftest import make_store, reset_caches
from tests.oracle import expected_buckets, repeat_presses

pytestmark = pytest.mark.unit

START = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
END = START + timedelta(hours=8)
STORES = {"store-ny": "America/New_York", "store-sh": "Asia/Shanghai"}
# Taps gather around these moments (seconds after START), two of them at hour boundaries,
# so that one kiosk's taps often fall within 15 s of each other: repeat presses.
CLUSTERS = (20 * 60, 60 * 60 - 20, 3 * 60 * 60 - 10, 5 * 60 * 60)

online = st.tuples(
    st.just("online"),
    st.sampled_from(CLUSTERS),
    st.integers(min_value=0, max_value=40),  # tapped this many seconds after the cluster
    st.sampled_from([1, 1, 1, 30, 200, 3600]),  # arrived this many seconds later
)
late = st.tuples(
    st.just("late"),
    st.integers(min_value=0, max_value=6 * 60),  # received, minutes after START
    st.integers(min_value=0, max_value=3 * 24 * 60),  # tapped this long before
    st.just(0),
)
single = st.tuples(
    st.sampled_from(sorted(STORES)),
    st.integers(min_value=1, max_value=5),
    st.one_of(online, late),
    st.sampled_from(["k-1", "k-2", "sms"]),
    st.booleans(),  # sent twice (a retry)
)
# Someone pressing again and again: taps of one kiosk a few seconds apart (up to 16 s: some
# runs break), each sent on its own and arriving after its own delay.
presses = st.tuples(
    st.sampled_from(sorted(STORES)),
    st.sampled_from(["k-1", "k-2"]),
    st.sampled_from(CLUSTERS),
    st.integers(min_value=0, max_value=40),
    st.lists(
        st.tuples(
            st.integers(min_value=1, max_value=16),  # seconds after the previous tap
            st.sampled_from([1, 1, 30, 200, 3600]),  # arrived this many seconds later
            st.integers(min_value=1, max_value=5),
        ),
        min_size=2,
        max_size=4,
    ),
).map(
    lambda drawn: [
        (drawn[0], score, ("online", drawn[2], drawn[3] + offset, delay), drawn[1], False)
        for offset, delay, score in _cumulative(drawn[4])
    ]
)
arrivals = st.lists(st.one_of(single.map(lambda one: [one]), presses), max_size=10).map(
    lambda groups: [arrival for group in groups for arrival in group]
)
runs = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=7 * 60),  # run at, minutes after START
        st.none() | st.integers(min_value=0, max_value=30),  # killed after n slices
    ),
    max_size=8,
)
since = st.integers(min_value=-60, max_value=8 * 60)  # a rebuild from, minutes after START


def _cumulative(taps: list[tuple[int, int, int]]) -> list[tuple[int, int, int]]:
    """(seconds after the first tap, delay, score) from (seconds after the previous, ...)."""
    offset = 0
    placed = []
    for gap, delay, score in taps:
        placed.append((offset, delay, score))
        offset += gap
    return placed


def times(timing: tuple[str, int, int, int]) -> tuple[datetime, datetime]:
    """(tapped_at, received_at) of a generated arrival."""
    kind, first, second, delay = timing
    if kind == "online":
        tapped = START + timedelta(seconds=first + second)
        return tapped, tapped + timedelta(seconds=delay)
    received = START + timedelta(minutes=first)
    return received - timedelta(minutes=second), received


def tallies() -> dict:
    window = (START - timedelta(days=5), END + timedelta(days=1))
    return {
        (store_id, granularity): {
            key: tally.model_dump()
            for key, tally in aggregates.bucket_tallies(store_id, granularity, *window).items()
        }
        for store_id in STORES
        for granularity in ("hour", "day", "week")
    }


# An example is a whole history aggregated, rebuilt twice and read back on moto (seconds):
# a tenth of the profile's count, 10 by default and 100 with HYPOTHESIS_PROFILE=thorough.
EXAMPLES = max(5, settings.default.max_examples // 10)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(arrivals=arrivals, runs=runs, since=since)
def test_incremental_aggregation_and_any_rebuild_equal_the_raw_figures(arrivals, runs, since):
    from moto import mock_aws

    table = f"prop-{uuid.uuid4().hex[:8]}"
    previous = os.environ.get("STOREPULSE_TABLE_NAME")
    os.environ["STOREPULSE_TABLE_NAME"] = table
    made: list[Rating] = []
    try:
        with mock_aws():
            reset_caches()
            dynamodb_local.create_table(dynamodb_local.client(None), table)
            for store_id, zone in STORES.items():
                stores.put_store(make_store(store_id, timezone=zone))
            aggregates.advance_watermark(None, START)
            events = sorted(
                [(times(item[2])[1], "rating", item) for item in arrivals]
                + [(START + timedelta(minutes=at), "run", killed) for at, killed in runs],
                key=lambda event: (event[0], event[1] == "run"),
            )
            for at, kind, payload in events:
                if kind == "run":
                    aggregate(at, stop_after_slices=payload)
                    continue
                store_id, score, timing, source, twice = payload
                tapped_at, received_at = times(timing)
                rating = Rating(
                    rating_id=str(uuid.uuid4()),
                    store_id=store_id,
                    channel="sms" if source == "sms" else "kiosk",
                    source_id=source,
                    survey_id="default-smiley-5",
                    score=score,
                    tapped_at=tapped_at,
                    received_at=received_at,
                )
                assert ratings.put_rating(rating)
                made.append(rating)
                if twice:
                    assert not ratings.put_rating(rating)
            while aggregate(END).out_of_time:  # the scheduler keeps running: all is final
                pass
            incremental = tallies()
            rebuild(START + timedelta(minutes=since), END)
            rebuilt_since = tallies()
            rebuild(START, END)
            rebuilt = tallies()
            stored_bursts = {
                rating.rating_id
                for rating in made
                if (stored := ratings.get_rating(rating.rating_id)) and stored.burst
            }
    finally:
        os.environ["STOREPULSE_TABLE_NAME"] = previous or ""
        reset_caches()

    raw = expected_buckets(made, STORES)
    assert incremental == raw
    assert rebuilt_since == raw
    assert rebuilt == raw
    counted = sum(
        t["responses"] + t["filtered"] for s in STORES for t in incremental[s, "week"].values()
    )
    assert counted == len(arrivals)
    assert stored_bursts == repeat_presses(made)  # the stored flags are what was left out
