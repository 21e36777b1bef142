"""The OpenAPI operations of the exports (`export_routes.py`): the ratings and the buckets
of a store as CSV."""

from __future__ import annotations

from .export_routes import CSV, RatingsExportQuery, SatisfactionExportQuery
from .operation import BAD_ID, BAD_QUERY, NO_CREDENTIAL, STAFF, Operation

_MEDIA = CSV.split(";")[0]
_NOT_SEEN = "the caller may not see this store (staff of other stores; a manager of another region)"
_ATTACHMENT = {"Content-Disposition": 'always: `attachment; filename="<store>-...csv"`'}

OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "GET",
        "/v1/stores/{store_id}/ratings.csv",
        "export_ratings",
        "reporting",
        "The store's ratings tapped in the period (dates or date-times in the store's zone; "
        "by default the last 30 days, at most 400), by tap time, as CSV (UTF-8 with a BOM; "
        "header `rating_id,store_id,kiosk_id,channel,score,scale_max,tapped_at,received_at,"
        "reasons,comment,expectation,burst,survey_version`), at most 5,000 rows a page "
        "(fewer when they would pass 5 MB): "
        'when more remain, `Link: <the same URL with cursor=...>; rel="next"`. Every page '
        "is a whole file (BOM and header). A rating is listed once the scheduled aggregation "
        "has counted it",
        STAFF,
        {200: _MEDIA},
        {
            400: f"{BAD_ID}, or {BAD_QUERY}: a range out of bounds or longer than 400 days, "
            "`from` not before `to`, or a `cursor` that is not one of this export's",
            401: NO_CREDENTIAL,
            403: _NOT_SEEN,
            404: "the store does not exist",
        },
        query=RatingsExportQuery,
        optional_headers={
            200: _ATTACHMENT
            | {"Link": 'when rows remain: `<the next page\'s URL>; rel="next"` (absent otherwise)'}
        },
    ),
    Operation(
        "GET",
        "/v1/stores/{store_id}/satisfaction.csv",
        "export_satisfaction",
        "reporting",
        "The store's satisfaction buckets of the period (not the period before), one row "
        "each, as CSV (UTF-8 with a BOM; header `store_id,start,responses,filtered,mean,csat,"
        "csat_low,csat_high,enough,nps,worse,as_expected,better,kiosk_responses,sms_responses,"
        "link_responses,reasons`): the satisfaction endpoint's figures",
        STAFF,
        {200: _MEDIA},
        {
            400: f"{BAD_ID}, or {BAD_QUERY}: a range out of bounds or too long for the "
            "granularity, `from` not before `to`",
            401: NO_CREDENTIAL,
            403: _NOT_SEEN,
            404: "the store does not exist",
        },
        query=SatisfactionExportQuery,
        optional_headers={200: _ATTACHMENT},
    ),
)
