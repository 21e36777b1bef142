"""The shapes of the API's answers as pydantic models, for the OpenAPI document (`openapi.py`).

The routes build their answers from the domain's models and views; these models say what
those answers hold, so the document is generated rather than written by hand, and the
integration tests validate every recorded answer against it (`tests/contract.py`). An answer
holds every field of its model, except one whose default is None (`optional`): a route leaves
that out when it has nothing to say. Loaded only to build the document, never on the ingest
path.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel
from pydantic.json_schema import SkipJsonSchema

from ..domain.consent import ConsentSummary
from ..domain.invitations import InvitationStatus, SuppressionReason
from ..domain.kiosks import Kiosk, KioskHealth
from ..domain.survey import Survey
from ..domain.tasks import AttemptResult, EventKind, Outcome, TaskRating, TaskStatus


def optional(description: str) -> Any:
    """A field the answer leaves out when it has nothing to say (never null)."""
    return Field(default=None, description=description, json_schema_extra=_no_default)


def _no_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)  # None is how the model says "absent", not a value sent


class Answer(BaseModel):
    model_config = ConfigDict(defer_build=True)


# Errors --------------------------------------------------------------------------------


class FieldError(Answer):
    """One failing field of a request (never the value sent: it may be personal data)."""

    field: str = Field(description="the field's path, dotted (`ratings.0.score`), or `body`")
    message: str


class RatingProgress(Answer):
    """What became of a rating of the batch when storage failed: `retry` (not written: send
    it again) or `rejected` (sending it again will not help); `stored` and `duplicate` ones
    are in the table, and a resend answers them `duplicate`."""

    rating_id: str | None
    status: Literal["stored", "duplicate", "rejected", "retry"]


class ErrorDetail(Answer):
    code: str = Field(description="stable, for programs: see docs/api.md for the list")
    message: str = Field(description="for people; may change")
    details: list[FieldError | RatingProgress] = Field(
        description="the failing fields of a 400; on a 503 of `POST /v1/kiosk/ratings`, "
        "every rating of the batch, in the order sent, with what became of it"
    )


class ErrorBody(Answer):
    """Every 4xx and 5xx answer."""

    error: ErrorDetail


# Kiosks --------------------------------------------------------------------------------


class CallbackConsentText(Answer):
    version: str = Field(description="sent back as the callback's `consent_version`")
    text: dict[str, str] = Field(description="the words to show, per locale")


class SurveyConsent(Answer):
    callback: CallbackConsentText


class KioskSurvey(Survey):
    """The survey a kiosk shows, with its store's name and phone country and the callback
    consent text to show."""

    model_config = ConfigDict(defer_build=True)

    store_name: str
    country: str = Field(description="ISO 3166 alpha-2: the country of a number typed without +")
    consent: SurveyConsent


class StoreSurvey(Survey):
    """A store's current survey as staff pages need it, with its version."""

    model_config = ConfigDict(defer_build=True)

    version: int = Field(ge=1, description="saving the survey makes version + 1")


class PairedKiosk(Answer):
    kiosk_id: str
    store_id: str
    token: str = Field(description="the kiosk's bearer token (kioskToken)")
    survey: KioskSurvey


class NewKiosk(Answer):
    kiosk_id: str
    pairing_code: str = Field(pattern=r"^\d{6}$", description="single use")
    expires_at: datetime


class KioskView(Kiosk):
    """A kiosk with its health now: `silent` when no heartbeat came for 30 minutes of the
    store's opening hours, `never_seen` before its first."""

    health: KioskHealth


class KioskList(Answer):
    kiosks: list[KioskView]


class RatingError(Answer):
    code: Literal["invalid_rating"]
    message: str
    details: list[FieldError]


class RatingResult(Answer):
    rating_id: str | None = Field(description="null when the rating sent had no string id")
    status: Literal["stored", "duplicate", "rejected", "retry"] = Field(
        description="`retry`: storage failed for this rating (or the request's deadline came "
        "first); send it again, with the same rating_id, after Retry-After seconds"
    )
    error: RatingError | SkipJsonSchema[None] = optional("why, when `rejected`")


class RatingResults(Answer):
    """One result per rating sent, in the order sent; with Retry-After when some are `retry`."""

    results: list[RatingResult]


# SMS -----------------------------------------------------------------------------------


class InvitationAnswer(Answer):
    invitation_id: str
    status: InvitationStatus
    reason: SuppressionReason | SkipJsonSchema[None] = optional("why, when `suppressed`")


class TwilioInbound(BaseModel):
    """Twilio's inbound message webhook, form-encoded (Twilio sends more fields; the
    signature covers them all)."""

    model_config = ConfigDict(extra="allow", defer_build=True)

    message_sid: str = Field(
        alias="MessageSid", description="keys the message: Twilio's retries count once"
    )
    sender: str = Field(
        alias="From", description="the sender; one that is not an E.164 number gets no reply"
    )
    body: str = Field(default="", alias="Body", description="the text")


# Satisfaction --------------------------------------------------------------------------


class Figures(Answer):
    responses: int = Field(description="answers counted (repeat presses left out)")
    mean: float | None
    distribution: dict[str, int] = Field(description="every score of the scale: its count")
    csat: float | None = Field(description="share of satisfied answers, 0..1")
    nps: float | None = Field(description="-100..100, on 0-10 scales only")


class ChannelFigures(Answer):
    kiosk: Figures
    sms: Figures
    link: Figures = Field(description="the survey on the customer's own phone")


class KioskFigures(Answer):
    responses: int
    mean: float | None


class ExpectationCounts(Answer):
    worse: int
    as_expected: int
    better: int


class Bucket(Figures):
    start: datetime = Field(description="the hour, day or week's start, with the store's offset")
    filtered: int = Field(description="repeat presses left out of the figures")
    csat_interval: list[float] | None = Field(
        min_length=2,
        max_length=2,
        description="[lo, hi]: the CSAT's Wilson 95% interval, 0..1; null without answers",
    )
    enough: bool = Field(
        description="whether responses reach the minimum (30) to read the figures alone"
    )
    expectation: ExpectationCounts
    reasons: dict[str, int]
    channels: ChannelFigures
    kiosks: dict[str, KioskFigures] = Field(
        description="per kiosk id, its answers of the bucket (kiosks without answers left out)"
    )


class StoreSatisfaction(Answer):
    store_id: str
    timezone: str
    granularity: Literal["hour", "day", "week"]
    buckets: list[Bucket] = Field(description="buckets with answers only, oldest first")
    previous: list[Bucket] = Field(description="the same length of time just before `from`")


class GroupSatisfaction(Answer):
    granularity: Literal["hour", "day", "week"]
    stores: list[StoreSatisfaction]


class RegionBuckets(Answer):
    buckets: list[Bucket] = Field(description="the region's buckets, summed from the counts")


class RegionStore(Answer):
    store_id: str
    buckets: list[Bucket]


class RegionSatisfaction(Answer):
    total: RegionBuckets
    stores: list[RegionStore]


class GroupOrRegionSatisfaction(RootModel[GroupSatisfaction | RegionSatisfaction]):
    """`?region=`: the region's total and its stores; otherwise each store's figures."""


# Callback tasks ------------------------------------------------------------------------


class TaskContact(Answer):
    phone_masked: str | None = Field(description="null once the contact has expired")
    name: str | None
    consent: ConsentSummary | None = Field(description="the customer's consent to be called")
    phone: str | SkipJsonSchema[None] = optional(
        "the full number: `GET /v1/callbacks/{task_id}` only, while the contact is kept"
    )


class CreatedDetail(Answer):
    channel: str = Field(description="the first rating's channel")


class AttemptDetail(Answer):
    result: AttemptResult
    note: str | None


class ResolvedDetail(Answer):
    outcome: Outcome
    # Left out, not null, when no score was recorded (the stored event keeps no nulls).
    recovered_score: int | SkipJsonSchema[None] = optional("the score after the call")
    note: str | None


class HistoryEvent(Answer):
    at: datetime
    by: str = Field(description="the staff member, or `system`")
    event: EventKind
    detail: CreatedDetail | AttemptDetail | ResolvedDetail | SkipJsonSchema[None] = optional(
        "what the event was: the channel (created), the call's result (attempt), the outcome "
        "(resolved); none on claimed and phone_read"
    )


class Task(Answer):
    task_id: str
    store_id: str
    status: TaskStatus
    priority: int = Field(description="the lowest score of its ratings: lower is more urgent")
    created_at: datetime
    due_at: datetime
    claimed_by: str | None
    outcome: Outcome | None
    contact: TaskContact
    ratings: list[TaskRating]
    history: list[HistoryEvent] | SkipJsonSchema[None] = optional(
        "`GET /v1/callbacks/{task_id}` only: oldest first, from the task's creation"
    )


class TaskList(Answer):
    tasks: list[Task] = Field(description="by deadline")


class CallbackLimits(Answer):
    note_max_chars: int


class FirstContact(Answer):
    median_s: int | None
    p90_s: int | None


class Recovery(Answer):
    tasks: int
    open: int
    overdue: int
    resolved: int
    within_deadline_share: float | None
    time_to_first_contact: FirstContact
    recovery_rate: float | None = Field(description="satisfied after the call, 0..1")


# The document itself -------------------------------------------------------------------


class OpenApiDocument(BaseModel):
    """This document (OpenAPI 3.1)."""

    model_config = ConfigDict(extra="allow", defer_build=True)

    openapi: str
