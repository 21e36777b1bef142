"""The link survey: the kiosk's page on the customer's own phone, reached from a printed QR
code. Its store code is the store id: public on the QR code, it grants only the right to
rate that store (the ingest checks the survey, and the limits bound what one phone, one
address and everyone together may send)."""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, Field

from .ratings import RatingBatchIn

# A phone sends its one rating (a few, if it was offline and queued them).
MAX_LINK_BATCH = 5


class LinkBatchIn(RatingBatchIn):
    """The envelope of `POST /v1/link/{store_code}/ratings`: the kiosk's, and the random
    device id the page keeps in localStorage (counted by the abuse limits only)."""

    model_config = ConfigDict(extra="forbid")

    ratings: list[dict[str, Any]] = Field(min_length=1, max_length=MAX_LINK_BATCH)
    device_id: str = Field(pattern=r"^[A-Za-z0-9_-]{8,64}$")


def link_source_id(device_id: str) -> str:
    """The rating's source: the phone's device id, marked as not a kiosk's."""
    return f"link-{device_id}"
