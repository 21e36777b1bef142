"""Rating rules with plain values: no HTTP, no DynamoDB."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from chalicelib.domain.phones import mask_phone, parse_e164
from chalicelib.domain.ratings import (
    accept_kiosk_rating,
    correct_skew,
    describe_errors,
    find_bursts,
)
from chalicelib.domain.survey import DEFAULT_SURVEY

pytestmark = pytest.mark.unit

RECEIVED = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def accept(raw: dict, sent_at: datetime = RECEIVED):
    return accept_kiosk_rating(
        raw,
        survey=DEFAULT_SURVEY,
        store_id="store-a",
        kiosk_id="k-1",
        sent_at=sent_at,
        received_at=RECEIVED,
    )


def raw(**overrides):
    values = {"rating_id": str(uuid.uuid4()), "score": 3, "tapped_at": "2026-11-25T11:59:00Z"}
    return values | overrides


@given(
    skew=st.timedeltas(min_value=timedelta(days=-3), max_value=timedelta(days=3)),
    wait=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=5)),
)
def test_skew_correction_recovers_the_true_tap_time(skew, wait):
    true_tap = RECEIVED - wait
    device_tap, device_send = true_tap + skew, RECEIVED + skew

    corrected = correct_skew(device_tap, sent_at=device_send, received_at=RECEIVED)

    assert abs(corrected - true_tap) <= timedelta(milliseconds=0.5)  # skew kept to the ms


def test_a_tap_after_the_send_time_is_rejected():
    with pytest.raises(ValidationError, match="later than sent_at"):
        accept(raw(tapped_at="2026-11-25T12:01:00Z"))


def test_a_tap_older_than_sixty_days_is_rejected():
    with pytest.raises(ValidationError, match="60 days"):
        accept(raw(tapped_at="2026-09-01T12:00:00Z"))


def test_reasons_are_kept_once_in_order():
    rating = accept(raw(score=2, reasons=["staff", "price", "staff"]))

    assert rating.reasons == ["staff", "price"]


def test_an_empty_comment_is_no_comment():
    assert accept(raw(comment="   ")).comment is None


def test_errors_name_the_field_and_never_echo_the_input():
    with pytest.raises(ValidationError) as caught:
        accept(raw(score=1, callback={"phone": "+1415555", "consent": True}))

    details = describe_errors(caught.value)

    assert details == [
        {"field": "callback.phone", "message": "phone is not a valid number for its country code"}
    ]
    assert "+1415555" not in str(details)


@pytest.mark.parametrize(
    ("phone", "masked"),
    [
        ("+14155550123", "+1******0123"),
        ("+447911123456", "+44******3456"),
        ("+8613812345678", "+86*******5678"),
        ("+35312345678", "+353****5678"),
    ],
)
def test_phones_are_masked_to_country_code_and_last_four(phone, masked):
    assert mask_phone(phone) == masked


@pytest.mark.parametrize("phone", ["+14155550123", "+447911123456", "+8613812345678"])
def test_valid_e164_numbers_are_accepted(phone):
    assert parse_e164(phone) == phone


@pytest.mark.parametrize("phone", ["14155550123", "+1 415 555 0123", "+0123456789", "+1415", ""])
def test_anything_but_strict_e164_is_refused(phone):
    with pytest.raises(ValueError, match="phone"):
        parse_e164(phone)


def _taps(*seconds: float) -> list[tuple[str, datetime]]:
    return [(f"r{i}", RECEIVED + timedelta(seconds=s)) for i, s in enumerate(seconds)]


@pytest.mark.parametrize(
    ("seconds", "bursts"),
    [
        ((0, 5, 10), {"r1", "r2"}),  # a run of three: one customer, two repeat presses
        ((0, 5), set()),  # two quick taps (a couple) both count
        ((0, 60, 120), set()),  # customers a minute apart
        ((0, 5, 10, 100, 104, 108, 112), {"r1", "r2", "r4", "r5", "r6"}),
        ((10, 0, 5), {"r0", "r2"}),  # order of arrival does not matter
    ],
)
def test_repeat_presses_are_marked_as_bursts(seconds, bursts):
    assert find_bursts(_taps(*seconds)) == bursts


@given(st.lists(st.floats(min_value=0, max_value=600), max_size=40))
def test_every_run_keeps_exactly_one_counted_tap(seconds):
    taps = _taps(*seconds)
    bursts = find_bursts(taps)
    ordered = sorted(taps, key=lambda tap: tap[1])
    runs, run = [], []
    for tap in ordered:
        if run and tap[1] - run[-1][1] > timedelta(seconds=15):
            runs.append(run)
            run = []
        run.append(tap)
    if run:
        runs.append(run)
    for run in runs:
        counted = [rating_id for rating_id, _ in run if rating_id not in bursts]
        assert len(counted) == (1 if len(run) >= 3 else len(run))
