"""The OpenAPI operations of staff, managers and admins; store-system credentials."""

from __future__ import annotations

from ..domain.people import IntegrationRequest, InviteRequest, NotificationPreferences
from . import schemas_people as schemas
from .operation import BAD_BODY, NO_CONTENT, NO_CREDENTIAL, STAFF, Operation

_NO_CREDENTIAL = f"{NO_CREDENTIAL}; or the person was removed"
_DIRECTORY = "the user directory (Cognito), SNS or storage failed; retry after Retry-After"

OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "POST",
        "/v1/staff",
        "invite_person",
        "people",
        "Invite a person (the pool e-mails them a temporary password); inviting again adds stores",
        STAFF,
        {201: schemas.StaffInvitation, 200: schemas.StaffInvitation},
        {
            400: f"{BAD_BODY}: staff have `stores` and no `region`, a manager a `region`, "
            "an admin neither",
            401: _NO_CREDENTIAL,
            403: "staff; a manager inviting a manager or admin, or for a store outside their "
            "region",
            404: "a store named does not exist (an admin; others get 403)",
            409: "`conflict`: the person exists with another role or region",
            503: _DIRECTORY,
        },
        body=InviteRequest,
    ),
    Operation(
        "GET",
        "/v1/staff",
        "list_people",
        "people",
        "The people the caller may see",
        STAFF,
        {200: schemas.StaffList},
        {401: _NO_CREDENTIAL, 403: "staff (not a manager or admin)", 503: _DIRECTORY},
    ),
    Operation(
        "DELETE",
        "/v1/staff/{email}",
        "remove_person",
        "people",
        "Remove a person: deleted from the pool, signed out, refused at once even with a "
        "live ID token, their notifications stopped",
        STAFF,
        {204: NO_CONTENT},
        {
            400: "the e-mail in the path is longer than 128 characters",
            401: _NO_CREDENTIAL,
            403: "staff; a manager removing a manager, an admin, or staff of a store outside "
            "their region",
            404: "nobody is invited with that e-mail",
            409: "`conflict`: the caller's own e-mail",
            503: _DIRECTORY,
        },
    ),
    Operation(
        "GET",
        "/v1/staff/me/notifications",
        "get_notifications",
        "people",
        "The caller's notification preferences",
        STAFF,
        {200: schemas.Notifications},
        {401: _NO_CREDENTIAL},
    ),
    Operation(
        "PUT",
        "/v1/staff/me/notifications",
        "set_notifications",
        "people",
        "Set the caller's notification preferences: their e-mail and phone are subscribed to "
        "the callback and alert messages of their stores (a manager: their region)",
        STAFF,
        {200: schemas.Notifications},
        {
            400: f"{BAD_BODY}: `sms` is an E.164 number or null",
            401: _NO_CREDENTIAL,
            503: _DIRECTORY,
        },
        body=NotificationPreferences,
    ),
    Operation(
        "POST",
        "/v1/integrations",
        "create_integration",
        "integrations",
        "A store system's credential for these stores; the token is shown once",
        STAFF,
        {201: schemas.NewIntegration},
        {
            400: BAD_BODY,
            401: _NO_CREDENTIAL,
            403: "staff; a manager naming a store outside their region (or one that does "
            "not exist)",
            404: "a store named does not exist (an admin; others get 403)",
        },
        body=IntegrationRequest,
    ),
    Operation(
        "GET",
        "/v1/integrations",
        "list_integrations",
        "integrations",
        "The store systems' credentials the caller may see (never their tokens)",
        STAFF,
        {200: schemas.IntegrationList},
        {401: _NO_CREDENTIAL, 403: "staff (not a manager or admin)"},
    ),
    Operation(
        "DELETE",
        "/v1/integrations/{integration_id}",
        "revoke_integration",
        "integrations",
        "Revoke a store system's credential (refused within STOREPULSE_REVOCATION_CACHE_S)",
        STAFF,
        {204: NO_CONTENT},
        {
            400: "the id in the path is longer than 128 characters",
            401: _NO_CREDENTIAL,
            403: "staff; a manager, for an integration with a store outside their region",
            404: "no such integration",
        },
    ),
)
