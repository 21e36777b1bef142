"""The shapes of the stores API's answers, for the OpenAPI document (`openapi_stores.py`)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class StoreAnswer(BaseModel):
    """A store (`domain.store_edits.store_view`): its survey is answered by
    `GET /v1/stores/{store_id}/survey`, its version here."""

    model_config = ConfigDict(defer_build=True)

    store_id: str
    name: str
    timezone: str = Field(description="IANA time zone")
    country: str = Field(description="ISO 3166 alpha-2: the country of a number typed without +")
    region: str | None = Field(
        description="the region its managers look after (`manager:<region>`)"
    )
    opening_hours: dict[str, tuple[int, int]] | None = Field(
        description='local whole hours per weekday, `{"mon": [8, 20], "sat": [9, 18]}`; a day '
        "left out is closed; null: not known (callback deadlines count every hour)"
    )
    sms_window: tuple[int, int] | None = Field(
        description="[first hour, end hour] local when survey SMS may be sent; null: 08-20"
    )
    survey_version: int = Field(ge=1, description="the current survey's version")


class StoreList(BaseModel):
    """The stores the caller may see, by id."""

    model_config = ConfigDict(defer_build=True)

    stores: list[StoreAnswer]
