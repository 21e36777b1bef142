"""Surveys and the stores that show them."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Locale = Literal["en", "zh-CN"]
Channel = Literal["kiosk", "sms", "link"]  # link: the survey on the customer's phone
Expectation = Literal["worse", "as_expected", "better"]


class Scale(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: Literal["smiley", "stars", "nps"] = "smiley"
    min: int = Field(default=1, ge=0)
    max: int = Field(default=5, le=10)

    @model_validator(mode="after")
    def _ordered(self) -> Scale:
        if self.min >= self.max:
            raise ValueError("scale min must be below max")
        return self


class Survey(BaseModel):
    """What a kiosk shows and what a rating may say."""

    model_config = ConfigDict(frozen=True)

    survey_id: str
    # Saving a survey makes a new version; every rating records the version it answered.
    version: int = Field(default=1, ge=1)
    question: dict[str, str]
    scale: Scale = Scale()
    reasons: list[str] = Field(default_factory=list)
    reason_labels: dict[str, dict[str, str]] = Field(default_factory=dict)
    # A callback is offered (and the customer flagged) at or below this score.
    callback_at_or_below: int = 2
    # The store opts in to call back every SMS customer at or below the threshold, not only
    # those who answer YES: the SMS survey then tells them a call is coming instead of asking.
    callback_every_sms_detractor: bool = False
    ask_expectation: bool = False
    locales: list[str] = Field(default_factory=lambda: ["en", "zh-CN"])
    default_locale: str = "en"


class Store(BaseModel):
    model_config = ConfigDict(frozen=True)

    store_id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,62}$")
    name: str = Field(min_length=1, max_length=120)
    timezone: str = "UTC"
    # ISO 3166 alpha-2 region, the default for phone numbers typed without a country code.
    country: str = Field(default="US", pattern=r"^[A-Z]{2}$")
    # The region a manager looks after (`manager:<region>` group), if any.
    region: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")
    survey: Survey
    # Local hours when survey SMS may be sent; None: the deployment's default (08-20).
    sms_window: tuple[int, int] | None = None
    # {weekday 0=Monday: (opening hour, closing hour)}: callback deadlines count these only.
    opening_hours: dict[int, tuple[int, int]] | None = None
    # A Slack-compatible incoming webhook that also gets the store's callback tasks.
    chat_webhook_url: str | None = None


DEFAULT_REASONS = ["wait_time", "staff", "cleanliness", "product", "price", "other"]

DEFAULT_SURVEY = Survey(
    survey_id="default-smiley-5",
    question={
        "en": "How was your visit today?",
        "zh-CN": "您今天的购物体验如何？",
    },
    scale=Scale(kind="smiley", min=1, max=5),
    reasons=DEFAULT_REASONS,
    reason_labels={
        "en": {
            "wait_time": "Wait time",
            "staff": "Staff",
            "cleanliness": "Cleanliness",
            "product": "Product",
            "price": "Price",
            "other": "Other",
        },
        "zh-CN": {
            "wait_time": "等待时间",
            "staff": "员工服务",
            "cleanliness": "清洁",
            "product": "商品",
            "price": "价格",
            "other": "其他",
        },
    },
    callback_at_or_below=2,
)
