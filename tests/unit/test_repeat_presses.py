"""The burst rule on plain values: what the aggregation run relies on to decide it from the
taps it can see, whatever order and grouping they arrive in (issue 11, point 2)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.domain.ratings import find_bursts, tap_runs

pytestmark = pytest.mark.unit

AT = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)

taps = st.lists(
    st.tuples(st.integers(min_value=0, max_value=9999), st.integers(min_value=0, max_value=300)),
    max_size=40,
    unique_by=lambda tap: tap[0],
).map(lambda drawn: [(f"r{n:04}", AT + timedelta(seconds=s)) for n, s in drawn])


@given(taps, st.data())
def test_more_taps_never_unmark_a_repeat_press(all_taps, data):
    """A run that sees only some of a kiosk's taps marks a subset of what the full set
    marks: decisions made from partial views can only be added to, never undone."""
    seen = data.draw(st.lists(st.sampled_from(all_taps), unique=True) if all_taps else st.just([]))

    assert find_bursts(seen) <= find_bursts(all_taps)


@given(taps, st.randoms())
def test_the_order_taps_come_in_changes_nothing(all_taps, random):
    shuffled = list(all_taps)
    random.shuffle(shuffled)

    assert find_bursts(shuffled) == find_bursts(all_taps)


def test_taps_at_the_same_moment_are_ordered_by_rating_id():
    same = [("r2", AT), ("r1", AT), ("r3", AT)]

    assert find_bursts(same) == {"r2", "r3"}
    assert find_bursts(list(reversed(same))) == {"r2", "r3"}


def test_the_same_tap_twice_is_one_tap():
    twice = [("r1", AT), ("r1", AT), ("r2", AT + timedelta(seconds=5))]

    assert find_bursts(twice) == set()


def test_runs_are_the_taps_each_within_15_seconds_of_the_previous():
    seconds = (0, 15, 30, 46, 50, 120)
    runs = tap_runs([(f"r{s}", AT + timedelta(seconds=s)) for s in seconds])

    assert [[rating_id for rating_id, _ in run] for run in runs] == [
        ["r0", "r15", "r30"],
        ["r46", "r50"],
        ["r120"],
    ]
