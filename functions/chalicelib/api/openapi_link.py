"""The OpenAPI operations of the link survey: the kiosk's survey and ingest for a customer's
phone, by the store code on a printed QR code (the store id), with no credential."""

from __future__ import annotations

from ..domain.link import MAX_LINK_BATCH, LinkBatchIn
from . import schemas
from .operation import BAD_BODY, Operation

_NO_STORE = "`not_found`: no store has this code"

OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "GET",
        "/v1/link/{store_code}/survey",
        "get_link_survey",
        "link survey",
        "The survey a phone shows for the store of this code (the kiosk's survey answer)",
        None,
        {200: schemas.KioskSurvey},
        {404: _NO_STORE},
    ),
    Operation(
        "POST",
        "/v1/link/{store_code}/ratings",
        "post_link_ratings",
        "link survey",
        f"Store 1 to {MAX_LINK_BATCH} ratings from a phone, as the kiosk's are (each checked "
        "and written on its own, a resend answers `duplicate`), with `channel: link`; the "
        "page's random `device_id` is counted by the abuse limits",
        None,
        {200: schemas.RatingResults},
        {
            400: f"{BAD_BODY}: the envelope (`sent_at`, `device_id`, 1 to {MAX_LINK_BATCH} "
            "`ratings`); a bad rating is `rejected` in the results instead",
            404: _NO_STORE,
            429: "`rate_limited`: too many requests from this device, from this address, or "
            "for this store in the window (STOREPULSE_LINK_*); or API Gateway's throttling",
            503: "storage failed for every rating the batch needed to write; send the batch "
            "again after Retry-After seconds",
        },
        body=LinkBatchIn,
        optional_headers={
            200: {
                "Retry-After": "when some results are `retry`: seconds to wait before "
                "sending those ratings again (absent otherwise)"
            }
        },
    ),
)
