"""Ratings: what a kiosk may send, and the immutable rating that is stored."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from .consent import KIOSK_CALLBACK_VERSION, kiosk_callback_version
from .phones import parse_e164
from .survey import Channel, Expectation, Survey
from .text import refuse_control_characters, strip_control_characters
from .visits import MAX_VISIT_REF, VISIT_REF

MAX_BATCH = 100
MAX_COMMENT_CHARS = 500
# A kiosk clock may run a little ahead between tap and send; beyond this the tap is bogus.
SEND_BEFORE_TAP_TOLERANCE = timedelta(seconds=5)
# Offline kiosks sync late, but a tap older than this after skew correction is a broken clock.
MAX_TAP_AGE = timedelta(days=60)
# Repeat presses: a run of at least BURST_MIN_RUN taps of one kiosk, each within BURST_GAP of
# the one before, is one customer (the first tap) and a burst (the rest). The kiosk locks its
# buttons for a whole answer flow, so even a fast real customer takes longer than this gap.
BURST_GAP = timedelta(seconds=15)
BURST_MIN_RUN = 3
# A kiosk clock may be wrong by years (one reset to 1970 after a flat battery still syncs:
# skew correction is for that), but a send time outside these years is not a clock.
FIRST_SENT_YEAR, LAST_SENT_YEAR = 1970, 2099


class CallbackRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # None: the number the store system gave for the rating's visit (its invitation's).
    phone: str | None = None
    name: str | None = Field(default=None, max_length=80)
    consent: StrictBool
    # The consent text the kiosk showed (domain/consent.py); kiosks that send none showed
    # the current one.
    consent_version: str = Field(default=KIOSK_CALLBACK_VERSION, max_length=40)

    @field_validator("phone")
    @classmethod
    def _e164(cls, value: str | None) -> str | None:
        return None if value is None else parse_e164(value)

    @field_validator("name")
    @classmethod
    def _plain_name(cls, value: str | None) -> str | None:
        return None if value is None else refuse_control_characters(value)

    @field_validator("consent")
    @classmethod
    def _consented(cls, value: bool) -> bool:
        if value is not True:
            raise ValueError("a callback needs the customer's consent (consent: true)")
        return value

    @field_validator("consent_version")
    @classmethod
    def _known_text(cls, value: str) -> str:
        return kiosk_callback_version(value)


class KioskRatingIn(BaseModel):
    """One rating as the kiosk sends it. Validated against the store's survey (context)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    rating_id: UUID
    score: StrictInt
    tapped_at: AwareDatetime
    reasons: list[str] = Field(default_factory=list, max_length=10)
    comment: str | None = Field(default=None, max_length=MAX_COMMENT_CHARS)
    locale: str = "en"
    expectation: Expectation | None = None
    callback: CallbackRequest | None = None
    # The survey version the kiosk showed (kiosks of before versions send none).
    survey_version: StrictInt | None = Field(default=None, ge=1)
    # The visit answered (a receipt's barcode, the POS's reference): one answer per visit
    # counts, whichever channel it came by.
    visit_ref: str | None = Field(default=None, max_length=MAX_VISIT_REF, pattern=VISIT_REF)

    @field_validator("comment")
    @classmethod
    def _plain_comment(cls, value: str | None) -> str | None:
        # Cleaned, not refused: the rating (its score) must not be lost for a stray character.
        return None if value is None else strip_control_characters(value).strip()

    @model_validator(mode="after")
    def _fits_survey(self, info: ValidationInfo) -> KioskRatingIn:
        survey: Survey = (info.context or {})["survey"]
        scale = survey.scale
        if not scale.min <= self.score <= scale.max:
            raise ValueError(f"score must be between {scale.min} and {scale.max}")
        unknown = sorted(set(self.reasons) - set(survey.reasons))
        if unknown:
            raise ValueError(f"unknown reasons {unknown}; allowed: {survey.reasons}")
        if self.locale not in survey.locales:
            raise ValueError(f"locale must be one of {survey.locales}")
        if self.callback is not None and self.score > survey.callback_at_or_below:
            raise ValueError(
                f"a callback is only offered for scores of {survey.callback_at_or_below} or less"
            )
        if self.callback is not None and self.callback.phone is None and not self.visit_ref:
            raise ValueError(
                "callback.phone is required, unless the rating names its visit (visit_ref): "
                "then the number the store system gave for the visit is called"
            )
        return self


class RatingBatchIn(BaseModel):
    """The envelope of `POST /v1/kiosk/ratings`; ratings are validated one by one."""

    model_config = ConfigDict(extra="forbid")

    sent_at: AwareDatetime
    ratings: list[dict[str, Any]] = Field(min_length=1, max_length=MAX_BATCH)

    @field_validator("sent_at")
    @classmethod
    def _a_clock_time(cls, value: datetime) -> datetime:
        if not FIRST_SENT_YEAR <= value.year <= LAST_SENT_YEAR:
            raise ValueError(
                f"sent_at must be between {FIRST_SENT_YEAR}-01-01 and {LAST_SENT_YEAR}-12-31"
            )
        return value


class Contact(BaseModel):
    phone: str | None = None  # None: the visit's number (storage/visits.py), read at flagging
    name: str | None = None
    consent_version: str | None = None  # the callback consent text the customer saw


class Rating(BaseModel):
    """A stored rating. Immutable: written once, keyed by its client-made `rating_id`."""

    model_config = ConfigDict(frozen=True)

    rating_id: str
    store_id: str
    channel: Channel
    source_id: str  # the kiosk id, or the SMS conversation id
    survey_id: str
    # The survey version answered (ratings stored before versions answered version 1).
    survey_version: int = 1
    score: int
    reasons: list[str] = Field(default_factory=list)
    comment: str | None = None
    locale: str = "en"
    expectation: Expectation | None = None
    tapped_at: datetime  # UTC, corrected for the device's clock skew
    received_at: datetime  # UTC, server clock
    # received_at - sent_at: what was added to the device's tapped_at (0 for SMS).
    clock_skew_ms: int = 0
    contact: Contact | None = None
    # A repeat press (see find_bursts): kept as raw data, left out of aggregates.
    burst: bool = False
    # The visit answered, and whether another answer of it came first (storage decides:
    # this one is kept and left out of aggregates, as a burst is).
    visit_ref: str | None = None
    same_visit: bool = False

    @property
    def device_tapped_at(self) -> datetime:
        """`tapped_at` as the device's clock said it."""
        return self.tapped_at - timedelta(milliseconds=self.clock_skew_ms)


def clock_skew(*, sent_at: datetime, received_at: datetime) -> timedelta:
    """How far the device clock is behind the server's (to the millisecond)."""
    return timedelta(milliseconds=round((received_at - sent_at) / timedelta(milliseconds=1)))


def correct_skew(tapped_at: datetime, *, sent_at: datetime, received_at: datetime) -> datetime:
    """Move a device time onto the server clock: shift it by `received_at - sent_at`."""
    return (tapped_at + clock_skew(sent_at=sent_at, received_at=received_at)).astimezone(UTC)


def accept_kiosk_rating(
    raw: dict[str, Any],
    *,
    survey: Survey,
    store_id: str,
    kiosk_id: str,
    sent_at: datetime,
    received_at: datetime,
    channel: Channel = "kiosk",
) -> Rating:
    """Validate one kiosk rating and build the rating to store; raises ValidationError.
    The link survey sends the kiosk's ratings (the same page): `channel="link"`."""
    rating = KioskRatingIn.model_validate(raw, context={"survey": survey})
    # Both checks compare times of the device's clock, as differences: skew correction keeps
    # the tap's age, and no date arithmetic runs on a tap at the ends of the calendar.
    if rating.tapped_at - sent_at > SEND_BEFORE_TAP_TOLERANCE:
        raise _invalid("tapped_at", "tapped_at is later than sent_at", raw)
    if sent_at - rating.tapped_at > MAX_TAP_AGE:
        raise _invalid("tapped_at", f"tapped_at is more than {MAX_TAP_AGE.days} days ago", raw)
    # Within MAX_TAP_AGE of sent_at, the corrected tap is within MAX_TAP_AGE of received_at.
    tapped_at = correct_skew(rating.tapped_at, sent_at=sent_at, received_at=received_at)
    callback = rating.callback
    if callback and callback.phone is None and channel != "kiosk":
        # A public page could name another customer's visit: only a store's kiosk may.
        raise _invalid("callback.phone", "callback.phone is required on the link survey", raw)
    contact = (
        Contact(phone=callback.phone, name=callback.name, consent_version=callback.consent_version)
        if callback
        else None
    )
    return Rating(
        rating_id=str(rating.rating_id),
        store_id=store_id,
        channel=channel,
        source_id=kiosk_id,
        survey_id=survey.survey_id,
        survey_version=answered_version(rating.survey_version, survey),
        score=rating.score,
        reasons=list(dict.fromkeys(rating.reasons)),
        comment=rating.comment or None,
        locale=rating.locale,
        expectation=rating.expectation,
        tapped_at=tapped_at,
        received_at=received_at,
        clock_skew_ms=clock_skew(sent_at=sent_at, received_at=received_at)
        // timedelta(milliseconds=1),
        contact=contact,
        visit_ref=rating.visit_ref,
    )


def answered_version(sent: int | None, survey: Survey) -> int:
    """The version a kiosk rating answered: the one the kiosk says it showed, if that is a
    version of this survey the server knows (the rating was checked against `survey`, the
    current one; an older version is one its offline queue kept), else `survey`'s. A
    version above the current one (a kiosk synced by a container whose copy of the store
    is fresher) cannot be checked without a read, so the checked version is recorded."""
    return sent if sent is not None and sent <= survey.version else survey.version


def tap_runs(taps: Iterable[tuple[str, datetime]]) -> list[list[tuple[str, datetime]]]:
    """One kiosk's taps `(rating_id, tapped_at)` in time order (ties by rating id, each id
    once), cut into runs: a tap within BURST_GAP of the one before joins its run."""
    ordered = sorted(dict(reversed(list(taps))).items(), key=lambda tap: (tap[1], tap[0]))
    runs: list[list[tuple[str, datetime]]] = []
    for tap in ordered:
        if runs and tap[1] - runs[-1][-1][1] <= BURST_GAP:
            runs[-1].append(tap)
        else:
            runs.append([tap])
    return runs


def find_bursts(taps: Iterable[tuple[str, datetime]]) -> set[str]:
    """Ids of the repeat presses among one kiosk's taps `(rating_id, tapped_at)`: in every run
    of at least BURST_MIN_RUN taps each within BURST_GAP of the previous, all but the first.

    The order and grouping the taps come in change nothing, and more taps never unmark one
    (a run only grows, and its first tap only gets earlier): so marks decided from some of a
    kiosk's taps are a subset of the marks of all of them, and can only be added to."""
    return {
        rating_id for run in tap_runs(taps) if len(run) >= BURST_MIN_RUN for rating_id, _ in run[1:]
    }


def _invalid(field: str, message: str, raw: Any) -> ValidationError:
    return ValidationError.from_exception_data(
        "KioskRatingIn",
        [{"type": "value_error", "loc": (field,), "input": raw, "ctx": {"error": message}}],
    )


def describe_errors(error: ValidationError) -> list[dict[str, str]]:
    """Pydantic errors as `{"field", "message"}` pairs, never echoing the input (it may be PII)."""
    details = []
    for item in error.errors(include_input=False, include_url=False):
        field = ".".join(str(part) for part in item["loc"]) or "body"
        message = item["msg"].removeprefix("Value error, ")
        details.append({"field": field, "message": message})
    return details
