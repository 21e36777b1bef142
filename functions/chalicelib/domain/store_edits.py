"""What staff send to create and edit a store and its survey, and the store as answered.

Opening hours in JSON: `{"mon": [8, 20], "sat": [9, 18]}`, whole local hours (open, close)
per weekday (`mon` .. `sun`), `[0, 24]` for all day; a day left out is closed; null: the
store's hours are not known (callback deadlines then count every hour). Stored as
{weekday 0=Monday: (open, close)}, the shape `Store.opening_hours` and `tasks.due_at` use.
"""

from __future__ import annotations

from typing import Annotated, Any
from zoneinfo import ZoneInfo

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from .survey import Locale, Scale, Store, Survey

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MAX_REASONS = 10  # a kiosk rating names at most 10 (KioskRatingIn.reasons)


def _iana_zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ValueError, OSError, KeyError):  # ZoneInfoNotFoundError is a KeyError
        raise ValueError("timezone must be an IANA time zone such as Europe/Paris") from None
    return name


def _country(code: str) -> str:
    import phonenumbers  # its metadata is a cold-start cost: only staff edits need it

    if code not in phonenumbers.SUPPORTED_REGIONS:
        raise ValueError("country must be an ISO 3166 alpha-2 code such as US or GB")
    return code


def _hours(value: dict[str, tuple[int, int]] | None) -> dict[str, tuple[int, int]] | None:
    for day, (opens, closes) in (value or {}).items():
        if day not in WEEKDAYS:
            raise ValueError(f"opening_hours: {day!r} is not one of {', '.join(WEEKDAYS)}")
        if not 0 <= opens < closes <= 24:
            raise ValueError(f"opening_hours.{day}: open before close, whole hours 0 to 24")
    return value


def _window(value: tuple[int, int] | None) -> tuple[int, int] | None:
    if value is not None and not 0 <= value[0] < value[1] <= 24:
        raise ValueError("sms_window: [first hour, end hour], 0 <= first < end <= 24")
    return value


Zone = Annotated[str, AfterValidator(_iana_zone)]
Country = Annotated[str, Field(pattern=r"^[A-Z]{2}$"), AfterValidator(_country)]
Region = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")]


class StoreQuery(BaseModel):
    """`GET /v1/stores?region=`: only the stores of that region."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    region: Region | None = None


OpeningHours = Annotated[
    dict[str, tuple[int, int]] | None,
    AfterValidator(_hours),
    Field(description='{"mon": [8, 20], ...}: whole local hours; a day left out is closed'),
]
SmsWindow = Annotated[
    tuple[int, int] | None,
    AfterValidator(_window),
    Field(description="[first hour, end hour] local when survey SMS may be sent; null: 08-20"),
]


class NewStore(BaseModel):
    """`POST /v1/stores`: a store, with the default survey (version 1)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, defer_build=True)

    store_id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,62}$")
    name: str = Field(min_length=1, max_length=120, pattern=r"^[^\r\n]*$")
    timezone: Zone
    country: Country
    region: Region | None = None
    opening_hours: OpeningHours = None
    sms_window: SmsWindow = None

    def store(self, survey: Survey) -> Store:
        values = self.model_dump(exclude={"opening_hours"})
        return Store(**values, opening_hours=hours_by_weekday(self.opening_hours), survey=survey)


class StoreChanges(BaseModel):
    """`PATCH /v1/stores/{store_id}`: the fields sent change, the others stay; null clears
    region, opening_hours and sms_window (not name, timezone or country)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, defer_build=True)

    name: str | None = Field(default=None, min_length=1, max_length=120, pattern=r"^[^\r\n]*$")
    timezone: Zone | None = None
    country: Country | None = None
    region: Region | None = None
    opening_hours: OpeningHours = None
    sms_window: SmsWindow = None

    @model_validator(mode="after")
    def _required_stay(self) -> StoreChanges:
        for name in ("name", "timezone", "country"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        return self

    def applied_to(self, store: Store) -> Store:
        """The store with these changes."""
        changes: dict[str, Any] = {name: getattr(self, name) for name in self.model_fields_set}
        if "opening_hours" in changes:
            changes["opening_hours"] = hours_by_weekday(self.opening_hours)
        return Store.model_validate(store.model_dump() | changes)


class SurveyChange(BaseModel):
    """`PUT /v1/stores/{store_id}/survey`: the whole survey; saving makes version + 1.

    Every locale has a question and a label for every reason; the callback threshold is a
    score of the scale. `version`, when sent, is the version the editor started from: the
    save is refused (409) if another was saved since."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, defer_build=True)

    version: int | None = Field(default=None, ge=1, description="the version this edits")
    locales: list[Locale] = Field(min_length=1, max_length=2)
    default_locale: Locale | None = Field(default=None, description="the first locale if left out")
    question: dict[Locale, Annotated[str, Field(min_length=1, max_length=200)]]
    scale: Scale
    reasons: list[Annotated[str, Field(pattern=r"^[a-z0-9_]{1,40}$")]] = Field(
        default_factory=list, max_length=MAX_REASONS
    )
    reason_labels: dict[Locale, dict[str, Annotated[str, Field(min_length=1, max_length=60)]]] = (
        Field(default_factory=dict)
    )
    ask_expectation: bool = False
    callback_at_or_below: int
    callback_every_sms_detractor: bool = False

    @model_validator(mode="after")
    def _complete(self) -> SurveyChange:
        locales = set(self.locales)
        if len(locales) != len(self.locales):
            raise ValueError("locales: each once")
        if self.default_locale is not None and self.default_locale not in locales:
            raise ValueError("default_locale must be one of locales")
        if set(self.question) != locales:
            raise ValueError("question: one per locale, for exactly the survey's locales")
        if len(set(self.reasons)) != len(self.reasons):
            raise ValueError("reasons: each once")
        if set(self.reason_labels) - locales:
            raise ValueError("reason_labels: only the survey's locales")
        for locale in self.locales:
            if set(self.reason_labels.get(locale, {})) != set(self.reasons):
                raise ValueError(f"reason_labels.{locale}: one label for every reason, no other")
        if not self.scale.min <= self.callback_at_or_below <= self.scale.max:
            raise ValueError(
                f"callback_at_or_below must be a score of the scale "
                f"({self.scale.min} to {self.scale.max})"
            )
        return self

    def survey(self, current: Survey) -> Survey:
        """The next version of `current` (its survey_id kept)."""
        values = self.model_dump(exclude={"version"})
        values["default_locale"] = self.default_locale or self.locales[0]
        return Survey(**values, survey_id=current.survey_id, version=current.version + 1)


def hours_by_weekday(hours: dict[str, tuple[int, int]] | None) -> dict[int, tuple[int, int]] | None:
    """`{"mon": (8, 20)}` -> `{0: (8, 20)}`."""
    if hours is None:
        return None
    return {WEEKDAYS.index(day): span for day, span in hours.items()}


def store_view(store: Store) -> dict[str, Any]:
    """A store as the API answers it (no survey: its version only; no webhook secret)."""
    hours = store.opening_hours
    return {
        "store_id": store.store_id,
        "name": store.name,
        "timezone": store.timezone,
        "country": store.country,
        "region": store.region,
        "opening_hours": None
        if hours is None
        else {WEEKDAYS[day]: list(span) for day, span in sorted(hours.items())},
        "sms_window": None if store.sms_window is None else list(store.sms_window),
        "survey_version": store.survey.version,
    }
