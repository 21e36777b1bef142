"""The cost model the ingest benchmark prints (benchmarks/cost.py): list prices times what
was measured, per million ratings."""

from __future__ import annotations

import pytest

from benchmarks.cost import per_million_ratings, ratings_per_request_for


def test_one_rating_a_request_on_the_rest_api():
    cost = per_million_ratings(
        ratings_per_request=1,
        ms_per_request=3.2,  # billed as 4 ms
        memory_mb=512,
        write_units_per_rating=2.0,
        read_units_per_rating=0.0,
    )

    assert cost.api == pytest.approx(3.50)
    assert cost.lambda_requests == pytest.approx(0.20)
    assert cost.lambda_compute == pytest.approx(1_000_000 * 0.004 * 0.5 * 0.0000166667)
    assert cost.dynamodb == pytest.approx(1.25)
    assert cost.total == pytest.approx(4.983, abs=0.001)


def test_batching_divides_the_per_request_lines_and_not_the_writes():
    single, batched = (
        per_million_ratings(
            ratings_per_request=n,
            ms_per_request=2.0 * n,
            memory_mb=512,
            write_units_per_rating=2.0,
            read_units_per_rating=0.5,
            http_api=True,
        )
        for n in (1, 10)
    )

    assert batched.api == pytest.approx(single.api / 10) == pytest.approx(0.10)
    assert batched.lambda_requests == pytest.approx(single.lambda_requests / 10)
    assert batched.lambda_compute == pytest.approx(single.lambda_compute)  # same ms a rating
    assert batched.dynamodb == single.dynamodb == pytest.approx(1.25 + 0.0625)


def test_the_batch_size_that_meets_the_goal_on_each_front():
    measured = {1: 3.2, 10: 12.0}  # ms a request: 5 ratings take 7.1 ms, billed 8
    fewest = {
        http_api: ratings_per_request_for(2.0, measured, 512, 2.0, 0.0, http_api=http_api)
        for http_api in (False, True)
    }

    # REST at 5: $0.70 API + $0.04 Lambda requests + $0.013 compute + $1.25 writes = $2.003.
    assert fewest == {False: 6, True: 2}
    # The writes alone cost $1.25 a million: no batch size reaches $1.
    assert ratings_per_request_for(1.0, measured, 512, 2.0, 0.0, http_api=True) is None
