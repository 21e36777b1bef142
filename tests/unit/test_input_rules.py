"""Input rules with plain values (security review, issue 10): regexes match whole values,
customer text holds no control characters, tokens and dates at the edges are refused."""

from __future__ import annotations

import time
import unicodedata
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from chalicelib import tokens
from chalicelib.domain.invitations import InvitationRequest
from chalicelib.domain.kiosks import PairingRequest
from chalicelib.domain.phones import parse_e164
from chalicelib.domain.ratings import RatingBatchIn, accept_kiosk_rating
from chalicelib.domain.survey import DEFAULT_SURVEY, Store
from chalicelib.domain.text import refuse_control_characters

pytestmark = pytest.mark.unit

RECEIVED = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize("phone", ["+19255554179\n", "+19255554179\r\n", "\n+19255554179"])
def test_a_phone_with_a_newline_is_not_e164(phone):
    with pytest.raises(ValueError, match=r"E\.164"):
        parse_e164(phone)


def test_an_invitation_keeps_the_phone_as_sent_so_a_newline_is_invalid():
    request = InvitationRequest(phone="+19255554179\n", store_id=" store-a ")

    assert request.phone == "+19255554179\n"
    assert request.store_id == "store-a"


# pydantic's `pattern=` runs on Rust's regex engine, where `$` is the end of the text; these
# keep it so (Python's `re` would let a trailing newline through).
@pytest.mark.parametrize("code", ["123456\n", "123456\r\n", "\n123456", "12345\n"])
def test_a_pairing_code_with_a_newline_is_refused(code):
    with pytest.raises(ValidationError):
        PairingRequest(pairing_code=code)


@pytest.mark.parametrize(("store_id", "country"), [("store-a\n", "US"), ("store-a", "US\n")])
def test_a_store_id_or_country_with_a_newline_is_refused(store_id, country):
    with pytest.raises(ValidationError):
        Store(store_id=store_id, name="A", country=country, survey=DEFAULT_SURVEY)


@pytest.mark.parametrize(
    "char",
    [
        *("\x00", "\x1b", "\x7f", "\x85", "\r", "\v", "\f"),  # Cc
        *("\u200b", "\u200e", "\u202a", "\u202e", "\u2066", "\u2069", "\ufeff"),  # Cf
        *("\u2028", "\u2029"),  # Zl, Zp
    ],
)
def test_control_and_format_characters_are_refused_even_in_paragraphs(char):
    with pytest.raises(ValueError, match=f"U\\+{ord(char):04X}"):
        refuse_control_characters(f"fine{char}text", allow_newlines=True)


@pytest.mark.parametrize("char", ["\n", "\t"])
def test_newlines_and_tabs_are_for_paragraphs_only(char):
    assert refuse_control_characters(f"a{char}b", allow_newlines=True) == f"a{char}b"
    with pytest.raises(ValueError, match="control or format"):
        refuse_control_characters(f"a{char}b")


@given(st.text(alphabet=st.characters(exclude_categories=("Cc", "Cf", "Cs", "Zl", "Zp"))))
def test_printable_text_in_any_script_is_kept(text):
    assert refuse_control_characters(text) == text


@given(st.text(min_size=1))
def test_what_is_kept_has_no_refused_character(text):
    try:
        kept = refuse_control_characters(text, allow_newlines=True)
    except ValueError:
        return
    assert all(
        c in "\n\t" or unicodedata.category(c) not in {"Cc", "Cf", "Cs", "Zl", "Zp"} for c in kept
    )


@pytest.mark.parametrize("token", ["tø.k.en", "é.é.é", "a.b\u202e.c", "\u00a0.b.c"])
def test_a_non_ascii_token_is_a_token_error(token):
    with pytest.raises(tokens.TokenError, match="not valid"):
        tokens.decode(token, "key", audience="kiosk", issuer="storepulse", now=time.time())


def rating(tapped_at: str) -> dict[str, object]:
    return {"rating_id": str(uuid.uuid4()), "score": 4, "tapped_at": tapped_at}


@pytest.mark.parametrize(
    "tapped_at",
    ["0001-01-01T00:00:00Z", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"],
)
@pytest.mark.parametrize("skew", [timedelta(seconds=-1), timedelta(0), timedelta(seconds=1)])
def test_a_tap_at_the_ends_of_the_calendar_is_a_validation_error(tapped_at, skew):
    with pytest.raises(ValidationError, match="tapped_at"):
        accept_kiosk_rating(
            rating(tapped_at),
            survey=DEFAULT_SURVEY,
            store_id="store-a",
            kiosk_id="k-1",
            sent_at=RECEIVED + skew,
            received_at=RECEIVED,
        )


@pytest.mark.parametrize(
    "sent_at",
    ["9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z", "1969-12-31T23:59:59Z", "2100-01-01T00:00Z"],
)
def test_a_send_time_outside_the_years_of_clocks_is_refused(sent_at):
    with pytest.raises(ValidationError, match="sent_at must be between 1970-01-01"):
        RatingBatchIn.model_validate({"sent_at": sent_at, "ratings": [{}]})


def test_a_far_off_device_clock_is_still_corrected():
    """The age checks compare device times: a clock a century ahead still syncs."""
    sent_at = datetime(2099, 12, 31, 23, 0, tzinfo=UTC)
    tapped = sent_at - timedelta(minutes=5)

    stored = accept_kiosk_rating(
        rating(tapped.isoformat()),
        survey=DEFAULT_SURVEY,
        store_id="store-a",
        kiosk_id="k-1",
        sent_at=sent_at,
        received_at=RECEIVED,
    )

    assert stored.tapped_at == RECEIVED - timedelta(minutes=5)
    assert stored.device_tapped_at == tapped
