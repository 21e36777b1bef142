"""Property: however runs are timed, retried or killed, and whatever arrives late or twice,
the incremental aggregates equal a rebuild from the raw ratings (moto, for speed)."""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib.domain.ratings import Rating
from chalicelib.jobs.aggregate import aggregate, rebuild
from chalicelib.store import aggregates, ratings, stores
from devtools import dynamodb_local
from tests.conftest import make_store, reset_caches

pytestmark = pytest.mark.unit

START = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
END = START + timedelta(hours=8)
STORES = {"store-ny": "America/New_York", "store-sh": "Asia/Shanghai"}

arrivals = st.lists(
    st.tuples(
        st.sampled_from(sorted(STORES)),
        st.integers(min_value=1, max_value=5),
        st.integers(min_value=0, max_value=6 * 60),  # received, minutes after START
        st.integers(min_value=0, max_value=3 * 24 * 60),  # tapped this long before (late)
        st.sampled_from(["k-1", "k-2", "sms"]),
        st.booleans(),  # sent twice (a retry)
    ),
    max_size=25,
)
runs = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=7 * 60),  # run at, minutes after START
        st.none() | st.integers(min_value=0, max_value=3),  # killed after n hours
    ),
    max_size=8,
)


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


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(arrivals=arrivals, runs=runs)
def test_incremental_aggregation_equals_a_rebuild(arrivals, runs):
    from moto import mock_aws

    table = f"prop-{uuid.uuid4().hex[:8]}"
    previous = os.environ.get("STOREPULSE_TABLE_NAME")
    os.environ["STOREPULSE_TABLE_NAME"] = table
    try:
        with mock_aws():
            reset_caches()
            dynamodb_local.create_table(dynamodb_local.client(None), table)
            for store_id, zone in STORES.items():
                stores.put_store(make_store(store_id, timezone=zone))
            aggregates.advance_watermark(None, START)
            events = sorted(
                [(minutes, "rating", item) for item in arrivals for minutes in [item[2]]]
                + [(minutes, "run", killed) for minutes, killed in runs],
                key=lambda event: (event[0], event[1] == "run"),
            )
            for minutes, kind, payload in events:
                at = START + timedelta(minutes=minutes)
                if kind == "run":
                    aggregate(at, stop_after_hours=payload)
                    continue
                store_id, score, _, tapped_before, source, twice = payload
                rating = Rating(
                    rating_id=str(uuid.uuid4()),
                    store_id=store_id,
                    channel="sms" if source == "sms" else "kiosk",
                    source_id=source,
                    survey_id="default-smiley-5",
                    score=score,
                    tapped_at=at - timedelta(minutes=tapped_before),
                    received_at=at,
                )
                assert ratings.put_rating(rating)
                if twice:
                    assert not ratings.put_rating(rating)
            aggregate(END)  # the scheduler keeps running: every hour becomes final
            incremental = tallies()
            rebuild(START, END)
            rebuilt = tallies()
            counted = sum(
                t["responses"] + t["filtered"] for t in incremental["store-ny", "week"].values()
            ) + sum(
                t["responses"] + t["filtered"] for t in incremental["store-sh", "week"].values()
            )
    finally:
        os.environ["STOREPULSE_TABLE_NAME"] = previous or ""
        reset_caches()

    assert incremental == rebuilt
    assert counted == len(arrivals)
