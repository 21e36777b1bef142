"""The OpenAPI operations of stores and their surveys (`store_routes.py`). The survey's
read, `GET /v1/stores/{store_id}/survey`, is listed with the kiosk operations in
`openapi.py`."""

from __future__ import annotations

from ..domain.store_edits import NewStore, StoreChanges, StoreQuery, SurveyChange
from . import schemas, schemas_stores
from .operation import BAD_BODY, BAD_ID, NO_CREDENTIAL, STAFF, Operation

_NOT_SEEN = "the caller may not see this store (staff of other stores; a manager of another region)"
_NOT_MANAGED = "the caller may not edit this store: staff; a manager of another region"

OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "POST",
        "/v1/stores",
        "create_store",
        "stores",
        "Create a store, with the default survey (version 1): an admin, or a manager in "
        "their region",
        STAFF,
        {201: schemas_stores.StoreAnswer},
        {
            400: f"{BAD_BODY}: an unknown time zone or country, opening hours out of order",
            401: NO_CREDENTIAL,
            403: "staff; a manager for a region not theirs (or none)",
            409: "`store_exists`: a store with this id exists (it is left as it is)",
        },
        body=NewStore,
    ),
    Operation(
        "GET",
        "/v1/stores",
        "list_stores",
        "stores",
        "The stores the caller may see (staff: theirs; a manager: also their regions'; an "
        "admin: all), of one region if `region` is given",
        STAFF,
        {200: schemas_stores.StoreList},
        {400: "`region` is not a region id", 401: NO_CREDENTIAL},
        query=StoreQuery,
    ),
    Operation(
        "GET",
        "/v1/stores/{store_id}",
        "read_store",
        "stores",
        "A store, as stored now",
        STAFF,
        {200: schemas_stores.StoreAnswer},
        {400: BAD_ID, 401: NO_CREDENTIAL, 403: _NOT_SEEN, 404: "the store does not exist"},
    ),
    Operation(
        "PATCH",
        "/v1/stores/{store_id}",
        "change_store",
        "stores",
        "Change a store's name, time zone, country, region, opening hours or SMS window "
        "(the fields sent; null clears region, opening_hours, sms_window)",
        STAFF,
        {200: schemas_stores.StoreAnswer},
        {
            400: f"{BAD_ID}, or {BAD_BODY}",
            401: NO_CREDENTIAL,
            403: f"{_NOT_MANAGED}; a manager moving it out of their regions",
            404: "the store does not exist",
        },
        body=StoreChanges,
    ),
    Operation(
        "PUT",
        "/v1/stores/{store_id}/survey",
        "save_survey",
        "stores",
        "Save the store's survey as its next version (kiosks show it from their next "
        "refresh after STOREPULSE_STORE_CACHE_S); the replaced version is kept",
        STAFF,
        {200: schemas.StoreSurvey},
        {
            400: f"{BAD_ID}, or {BAD_BODY}: a locale without its question or a reason "
            "without its label, the callback threshold off the scale",
            401: NO_CREDENTIAL,
            403: _NOT_MANAGED,
            404: "the store does not exist",
            409: "`conflict`: another save made a new version since the one read (or the "
            "`version` sent); `scale_locked`: the scale changes and the store has ratings",
        },
        body=SurveyChange,
    ),
)
