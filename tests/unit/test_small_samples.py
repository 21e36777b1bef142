"""Honest small samples: each bucket's CSAT carries its Wilson 95% interval and whether it has
enough answers to be read on its own."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.domain.aggregates import (
    ENOUGH_RESPONSES,
    Tally,
    bucket_view,
    wilson_interval,
)
from chalicelib.domain.survey import Scale

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("satisfied", "responses", "expected"),
    [
        # Worked by hand from the Wilson formula; 0 of n and n of n have the closed forms
        # z^2 / (n + z^2) and n / (n + z^2).
        (8, 10, (0.4902, 0.9433)),
        (0, 5, (0.0, 0.4345)),
        (5, 5, (0.5655, 1.0)),
        (50, 100, (0.4038, 0.5962)),
    ],
)
def test_the_interval_is_wilsons(satisfied, responses, expected):
    assert wilson_interval(satisfied, responses) == pytest.approx(expected, abs=1e-4)


def test_no_answers_have_no_interval():
    assert wilson_interval(0, 0) is None


@given(
    st.integers(min_value=1, max_value=100_000).flatmap(
        lambda n: st.tuples(st.integers(min_value=0, max_value=n), st.just(n))
    )
)
def test_the_interval_holds_the_share_inside_0_to_1(case):
    satisfied, responses = case
    low, high = wilson_interval(satisfied, responses)
    share = satisfied / responses

    assert 0.0 <= low <= high <= 1.0
    assert low - 1e-4 <= share <= high + 1e-4


def test_the_interval_narrows_as_answers_grow():
    widths = [hi - lo for lo, hi in (wilson_interval(n // 2, n) for n in (10, 30, 300))]

    assert widths == sorted(widths, reverse=True)


def tally_of(scores: list[int]) -> Tally:
    tally = Tally()
    for score in scores:
        tally.responses += 1
        tally.total += score
        tally.distribution[str(score)] = tally.distribution.get(str(score), 0) + 1
    return tally


def test_a_bucket_says_when_it_has_too_few_answers():
    start = datetime(2026, 12, 3, 10, tzinfo=UTC)
    few = bucket_view(start, tally_of([5, 4, 1]), Scale())
    enough = bucket_view(start, tally_of([5, 4, 1] * 10), Scale())

    assert (few["responses"], few["enough"]) == (3, False)
    assert (enough["responses"], enough["enough"]) == (ENOUGH_RESPONSES, True)
    # CSAT is the share of 4-5 on the smiley scale: 2 of 3, and 20 of 30.
    assert few["csat_interval"] == list(wilson_interval(2, 3))
    assert enough["csat_interval"] == list(wilson_interval(20, 30))
    low, high = few["csat_interval"]
    assert low < few["csat"] < high


def test_an_empty_bucket_has_no_interval_and_is_not_enough():
    view = bucket_view(datetime(2026, 12, 3, tzinfo=UTC), Tally(), Scale())

    assert (view["csat_interval"], view["enough"]) == (None, False)
