"""What a million kiosk ratings cost on AWS, from what the ingest benchmark measured.

Public on-demand list prices, us-east-1, as of 2026-12 (check them before quoting): the
figures are only as good as these and the assumptions `report` prints beside them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

MILLION = 1_000_000
PRICES = {
    "api_rest": 3.50 / MILLION,  # API Gateway REST API, per request (first 333 M a month)
    "api_http": 1.00 / MILLION,  # API Gateway HTTP API, per request (first 300 M a month)
    "lambda_request": 0.20 / MILLION,
    "lambda_gb_s": 0.0000166667,  # x86, per GB-second, billed by the millisecond
    "dynamodb_write": 0.625 / MILLION,  # on-demand, per write request unit
    "dynamodb_read": 0.125 / MILLION,  # on-demand, per read request unit
}


@dataclass(frozen=True)
class Cost:
    """Dollars per million ratings, by line."""

    api: float
    lambda_requests: float
    lambda_compute: float
    dynamodb: float

    @property
    def total(self) -> float:
        return self.api + self.lambda_requests + self.lambda_compute + self.dynamodb


def per_million_ratings(
    *,
    ratings_per_request: int,
    ms_per_request: float,
    memory_mb: int,
    write_units_per_rating: float,
    read_units_per_rating: float,
    http_api: bool = False,
) -> Cost:
    """The ingest's cost of a million ratings sent `ratings_per_request` at a time, each
    request taking `ms_per_request` of a `memory_mb` function."""
    requests = MILLION / ratings_per_request
    billed_s = math.ceil(ms_per_request) / 1000
    return Cost(
        api=requests * PRICES["api_http" if http_api else "api_rest"],
        lambda_requests=requests * PRICES["lambda_request"],
        lambda_compute=requests * billed_s * memory_mb / 1024 * PRICES["lambda_gb_s"],
        dynamodb=MILLION
        * (
            write_units_per_rating * PRICES["dynamodb_write"]
            + read_units_per_rating * PRICES["dynamodb_read"]
        ),
    )


GOAL = 2.0  # dollars per million ratings
KIOSK_BATCH_WINDOW_S = 60  # kiosk/app.js TIMING.batch


def ratings_per_request_for(
    goal: float,
    measured: dict[int, float],
    memory_mb: int,
    write_units: float,
    read_units: float,
    *,
    http_api: bool,
) -> int | None:
    """The fewest ratings a request (up to the API's 100) that cost at most `goal` a million,
    the time of a request drawn on a line through the smallest and largest batch measured;
    None when no batch size does."""
    (low, low_ms), (high, high_ms) = min(measured.items()), max(measured.items())
    for n in range(1, 101):
        ms = low_ms + (high_ms - low_ms) * (n - low) / (high - low)
        cost = per_million_ratings(
            ratings_per_request=n,
            ms_per_request=ms,
            memory_mb=memory_mb,
            write_units_per_rating=write_units,
            read_units_per_rating=read_units,
            http_api=http_api,
        )
        if cost.total <= goal:
            return n
    return None


ASSUMPTIONS = (
    "prices: public on-demand list prices, us-east-1, 2026-12 (benchmarks/cost.py)",
    "Lambda time = the server time measured here, in-process against DynamoDB Local, rounded "
    "up to the millisecond; in AWS the calls to DynamoDB take longer than on loopback",
    "DynamoDB: the write units measured per rating (item + index entry); a warm container "
    "reads nothing, a cold one one BatchGetItem per cache period (left out)",
    "left out: the scheduled aggregation (its reads per new rating: benchmarks.aggregate), "
    "the table's stream (Lambda's reads of it are free, and its filter invokes FlagCallbacks "
    "only for ratings that asked for a call), SNS for flagged ratings only, CloudWatch logs, "
    "storage, data transfer, free tiers",
)


def report(
    measured: dict[int, float], memory_mb: int, write_units: float, read_units: float
) -> None:
    """Print the cost per million ratings for each batch size measured: {ratings a request:
    ms a request}."""
    print(f"\n4. Cost per million kiosk ratings (goal <= ${GOAL:g}), a {memory_mb} MB function")
    print(f"   {'batch':>5}   {'API':>6} {'Lambda':>7} {'compute':>8} {'DynamoDB':>9}   total")
    for n, ms in sorted(measured.items()):
        for http_api in (False, True):
            cost = per_million_ratings(
                ratings_per_request=n,
                ms_per_request=ms,
                memory_mb=memory_mb,
                write_units_per_rating=write_units,
                read_units_per_rating=read_units,
                http_api=http_api,
            )
            front = "HTTP API" if http_api else "REST API"
            print(
                f"   {n:>5}   {cost.api:6.2f} {cost.lambda_requests:7.2f} "
                f"{cost.lambda_compute:8.3f} {cost.dynamodb:9.2f}   ${cost.total:.2f}  "
                f"({front}, {ms:.1f} ms a request)"
            )
    if len(measured) > 1:
        for http_api in (False, True):
            needed = ratings_per_request_for(
                GOAL, measured, memory_mb, write_units, read_units, http_api=http_api
            )
            front = "an HTTP API" if http_api else "the REST API"
            reach = f"from {needed} ratings a request" if needed else "not by batching alone"
            print(f"   the goal on {front}: {reach}")
        print(
            f"   (the kiosk holds an ordinary rating up to {KIOSK_BATCH_WINDOW_S} s for others to "
            "share its request, a callback request goes at once: a kiosk seeing r taps a minute "
            "sends about 1 + r a request)"
        )
    print("   assumptions:")
    for line in ASSUMPTIONS:
        print(f"   - {line}")
