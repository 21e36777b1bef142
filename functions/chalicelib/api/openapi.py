"""The OpenAPI 3.1 document of the v1 API, generated from the pydantic models of the requests
(`domain/`) and of the answers (`schemas.py`); served by `openapi_routes.py`.

OPERATIONS is the contract's list of routes. Tests hold it to the app (every route of
`app.routes`, and nothing else), and the integration tests validate every answer they record
against the document (`tests/contract.py`); docs/api.md says the same for people.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaMode, models_json_schema
from pydantic_core import core_schema

from ..domain.invitations import InvitationRequest
from ..domain.kiosks import Kiosk, NewKioskRequest, PairingRequest
from ..domain.ratings import KioskRatingIn, RatingBatchIn
from ..domain.tasks import AttemptRequest, ResolveRequest
from . import (
    openapi_kiosk_health,
    openapi_link,
    openapi_onboarding,
    openapi_people,
    openapi_reporting,
    openapi_stores,
    openapi_webhooks,
    schemas,
)
from .callback_routes import TaskQuery
from .http import MAX_ID_CHARS, PeriodQuery, answers
from .operation import (
    BAD_BODY,
    BAD_ID,
    BAD_QUERY,
    INTEGRATION,
    KIOSK,
    NO_CONTENT,
    NO_CREDENTIAL,
    STAFF,
    TWILIO,
    Operation,
)
from .satisfaction_routes import SatisfactionQuery

REF = "#/components/schemas/{model}"
TWIML = "text/xml"  # Twilio's webhook is answered in TwiML, not JSON
# What an answer of a media type other than JSON holds.
TEXT_ANSWERS = {
    TWIML: "TwiML: the reply to send, or none",
    "text/csv": "CSV, UTF-8 with a byte order mark: the header, then the rows",
}

# Errors any route may answer, and what they mean.
ALWAYS = {
    413: "the body is larger than STOREPULSE_MAX_BODY_BYTES (256 KiB)",
    415: "the Content-Type is not the one the route takes",
    429: "API Gateway's throttling: too many requests; retry after Retry-After seconds",
    500: "an internal error (a bug: no input should cause it); no stack trace is shown",
    503: "a dependency (DynamoDB, a secret, the SMS provider) failed; nothing was "
    "half-stored, so retrying after Retry-After seconds is safe",
}
RETRY_AFTER = (429, 503)
OTHER_STORE = "a staff credential of another store"
NO_STORE = "the store does not exist"
NO_TASK = "the task does not exist"
STAFF_TASK = {
    400: f"{BAD_ID}, or {BAD_BODY}",
    401: NO_CREDENTIAL,
    403: "the task is another store's",
    404: NO_TASK,
}

_CORE: tuple[Operation, ...] = (
    Operation(
        "POST",
        "/v1/kiosks/pair",
        "pair_kiosk",
        "kiosk",
        "Pair a kiosk with the code staff were given; answers its token and survey",
        None,
        {201: schemas.PairedKiosk},
        {
            400: BAD_BODY,
            401: "`invalid_pairing_code`: the code is unknown, used or expired",
            404: NO_STORE,
            429: "`rate_limited`: too many wrong codes from this client, or from all clients "
            "together, in the window (STOREPULSE_PAIRING_*); or API Gateway's throttling",
        },
        body=PairingRequest,
    ),
    Operation(
        "GET",
        "/v1/kiosk/survey",
        "get_kiosk_survey",
        "kiosk",
        "The survey this kiosk shows",
        KIOSK,
        {200: schemas.KioskSurvey},
        {401: NO_CREDENTIAL, 404: NO_STORE},
    ),
    Operation(
        "POST",
        "/v1/kiosk/ratings",
        "post_ratings",
        "kiosk",
        "Store 1 to 100 ratings; each is checked and written on its own (a bad one is "
        "`rejected`, one whose write failed `retry`, the others stored) and a resend answers "
        "`duplicate`",
        KIOSK,
        {200: schemas.RatingResults},
        {
            400: f"{BAD_BODY}: the envelope (`sent_at`, 1 to 100 `ratings`); a bad rating "
            "is `rejected` in the results instead",
            401: NO_CREDENTIAL,
            404: NO_STORE,
            503: "storage failed for every rating the batch needed to write (none was "
            "written): `details` gives each rating's status (`retry`, or `rejected`); send "
            "the batch again after Retry-After seconds",
        },
        body=RatingBatchIn,
        optional_headers={
            200: {
                "Retry-After": "when some results are `retry`: seconds to wait before "
                "sending those ratings again (absent otherwise)"
            }
        },
    ),
    Operation(
        "GET",
        "/v1/stores/{store_id}/survey",
        "get_store_survey",
        "stores",
        "The store's current survey (scale, reasons, labels) and its version",
        STAFF,
        {200: schemas.StoreSurvey},
        {400: BAD_ID, 401: NO_CREDENTIAL, 403: OTHER_STORE, 404: NO_STORE},
    ),
    Operation(
        "POST",
        "/v1/stores/{store_id}/kiosks",
        "create_kiosk",
        "stores",
        "A new kiosk and its pairing code (single use, STOREPULSE_PAIRING_CODE_TTL_S)",
        STAFF,
        {201: schemas.NewKiosk},
        {
            400: f"{BAD_ID}, or {BAD_BODY}",
            401: NO_CREDENTIAL,
            403: OTHER_STORE,
            404: NO_STORE,
            503: "no free pairing code right now, or storage failed; retry",
        },
        body=NewKioskRequest,
        body_optional=True,
    ),
    Operation(
        "GET",
        "/v1/stores/{store_id}/kiosks",
        "list_kiosks",
        "stores",
        "The store's kiosks: pending, paired and revoked, each with its last heartbeat and "
        "health (`ok`, `silent`: nothing for 30 minutes of opening hours, `never_seen`)",
        STAFF,
        {200: schemas.KioskList},
        {400: BAD_ID, 401: NO_CREDENTIAL, 403: OTHER_STORE, 404: NO_STORE},
    ),
    Operation(
        "POST",
        "/v1/stores/{store_id}/kiosks/{kiosk_id}/revoke",
        "revoke_kiosk",
        "stores",
        "Revoke a kiosk: its token stops working (within STOREPULSE_REVOCATION_CACHE_S)",
        STAFF,
        {200: Kiosk},
        {
            400: BAD_ID,
            401: NO_CREDENTIAL,
            403: OTHER_STORE,
            404: "the store, or the kiosk in it, does not exist",
        },
    ),
    Operation(
        "POST",
        "/v1/surveys/invitations",
        "create_invitation",
        "sms",
        "Invite a customer to the SMS survey after a visit (a store system)",
        INTEGRATION,
        {202: schemas.InvitationAnswer},
        {
            400: BAD_BODY,
            401: NO_CREDENTIAL,
            403: "the credential is not for this store",
            404: NO_STORE,
            503: "the SMS provider or storage failed: nothing was kept; retry",
        },
        body=InvitationRequest,
    ),
    Operation(
        "POST",
        "/v1/sms/twilio",
        "twilio_inbound",
        "sms",
        "Twilio's inbound SMS webhook; answers TwiML (the reply, or none)",
        TWILIO,
        {200: TWIML},
        {
            400: "the body is not UTF-8 form data, or has no MessageSid",
            403: "X-Twilio-Signature is missing or does not sign this request for "
            "STOREPULSE_TWILIO_WEBHOOK_URL; nothing is stored",
            503: "the webhook URL is not configured, or a dependency failed; Twilio retries",
        },
        body=schemas.TwilioInbound,
        form=True,
    ),
    Operation(
        "GET",
        "/v1/stores/{store_id}/satisfaction",
        "get_store_satisfaction",
        "satisfaction",
        "Satisfaction buckets of a store, and the same length of time just before",
        STAFF,
        {200: schemas.StoreSatisfaction},
        {
            400: f"{BAD_ID}, or {BAD_QUERY}: a range out of bounds or too long for the "
            "granularity, `from` not before `to`, or `store_ids`",
            401: NO_CREDENTIAL,
            403: OTHER_STORE,
            404: NO_STORE,
        },
        query=SatisfactionQuery,
        query_left_out=("store_ids", "region"),
    ),
    Operation(
        "GET",
        "/v1/satisfaction",
        "get_group_satisfaction",
        "satisfaction",
        "A manager's or admin's view of a region (`region=west`: its total from the counts, "
        "and each store), of several stores (`store_ids=a,b`) or of all they may see (a "
        "manager's region, an admin's chain)",
        STAFF,
        {200: schemas.GroupOrRegionSatisfaction},
        {
            400: f"{BAD_QUERY}, or both `region` and `store_ids`",
            401: NO_CREDENTIAL,
            403: "a staff member's credential, a store of `store_ids` the caller may not see "
            "(also one that does not exist, for a manager), or a region not the manager's",
            404: "an admin named a store of `store_ids` that does not exist",
        },
        query=SatisfactionQuery,
    ),
    Operation(
        "GET",
        "/v1/callbacks",
        "list_tasks",
        "callbacks",
        "A store's callback tasks of one status, by deadline",
        STAFF,
        {200: schemas.TaskList},
        {
            400: f"{BAD_QUERY}; `store_id` left out by a credential of several stores",
            401: NO_CREDENTIAL,
            403: OTHER_STORE,
        },
        query=TaskQuery,
    ),
    Operation(
        "GET",
        "/v1/callbacks/limits",
        "get_callback_limits",
        "callbacks",
        "What staff may write (the note's length)",
        STAFF,
        {200: schemas.CallbackLimits},
        {401: NO_CREDENTIAL},
    ),
    Operation(
        "GET",
        "/v1/callbacks/{task_id}",
        "read_task",
        "callbacks",
        "The call view: the task with the full number (while kept; each read is recorded) "
        "and its history",
        STAFF,
        {200: schemas.Task},
        STAFF_TASK | {400: BAD_ID},
    ),
    Operation(
        "POST",
        "/v1/callbacks/{task_id}/claim",
        "claim_task",
        "callbacks",
        "Claim a task (claiming one's own again changes nothing)",
        STAFF,
        {200: schemas.Task},
        STAFF_TASK
        | {
            400: BAD_ID,
            409: "`conflict`: someone else has the task, it is resolved, or it changed meanwhile",
        },
    ),
    Operation(
        "POST",
        "/v1/callbacks/{task_id}/attempts",
        "record_attempt",
        "callbacks",
        "Record a call attempt (the same result within a minute is recorded once)",
        STAFF,
        {200: schemas.Task},
        STAFF_TASK
        | {
            409: "`conflict`: the caller has not claimed the task (an admin or a manager of "
            "its region may), it is resolved, or it changed meanwhile"
        },
        body=AttemptRequest,
    ),
    Operation(
        "POST",
        "/v1/callbacks/{task_id}/resolve",
        "resolve_task",
        "callbacks",
        "Resolve a task with its outcome and the customer's score after the call",
        STAFF,
        {200: schemas.Task},
        STAFF_TASK
        | {
            400: f"{BAD_ID}, or {BAD_BODY}, or a `recovered_score` off the store's scale",
            409: "`conflict`: the task is resolved already, or it changed meanwhile",
        },
        body=ResolveRequest,
    ),
    Operation(
        "GET",
        "/v1/stores/{store_id}/recovery",
        "get_store_recovery",
        "callbacks",
        "Recovery figures of the tasks created in the range (default the last 30 days)",
        STAFF,
        {200: schemas.Recovery},
        {
            400: f"{BAD_ID}, or {BAD_QUERY}",
            401: NO_CREDENTIAL,
            403: OTHER_STORE,
            404: NO_STORE,
        },
        query=PeriodQuery,
    ),
    Operation(
        "GET",
        "/v1/openapi.json",
        "get_openapi",
        "meta",
        "This document",
        None,
        {200: schemas.OpenApiDocument},
    ),
)

# Each capability's routes are listed in its own module (stores and surveys, people and
# integrations, onboarding); the contract is all of them.
OPERATIONS: tuple[Operation, ...] = (
    *_CORE,
    *openapi_stores.OPERATIONS,
    *openapi_people.OPERATIONS,
    *openapi_onboarding.OPERATIONS,
    *openapi_reporting.OPERATIONS,
    *openapi_kiosk_health.OPERATIONS,
    *openapi_webhooks.OPERATIONS,
    *openapi_link.OPERATIONS,
)

SECURITY_SCHEMES = {
    KIOSK: {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "A kiosk's token, from `POST /v1/kiosks/pair` (HS256, audience "
        "`kiosk`). A revoked kiosk's token is refused within STOREPULSE_REVOCATION_CACHE_S.",
    },
    STAFF: {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "A person's ID token from the stack's Cognito user pool (RS256, "
        "checked against the pool's JWKS; `aud` the staff page's app client, `token_use` id). "
        "The pool's groups give the role: `store:<store_id>` (staff of that store), "
        "`manager:<region>` (every store of the region, and editing them), `admin` "
        "(everything); 403 elsewhere. A removed person is refused within "
        "STOREPULSE_REVOCATION_CACHE_S. HS256 staff tokens (audience `staff`) only where "
        "STOREPULSE_ACCEPT_LOCAL_STAFF_TOKENS is set (tests, the local stack).",
    },
    INTEGRATION: {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "A store system's token (HS256, audience `integration`), naming the "
        "stores it may invite for.",
    },
    TWILIO: {
        "type": "apiKey",
        "in": "header",
        "name": "X-Twilio-Signature",
        "description": "Twilio's signature of the request: HMAC-SHA1 with the auth token of "
        "STOREPULSE_TWILIO_WEBHOOK_URL and the form's fields.",
    },
}

HEADERS = {
    "X-Correlation-Id": {
        "description": "On every answer of the app (not on API Gateway's own throttling "
        "and oversize answers): the caller's X-Correlation-Id if it is 1 to 64 of "
        "`A-Za-z0-9._:@+=/-`, else the request id. Every log line of the request has it.",
        "schema": {"type": "string", "maxLength": 64},
    },
    "Cache-Control": {
        "description": "`no-store` on every answer of the app: answers hold tokens and "
        "phone numbers.",
        "schema": {"type": "string"},
    },
    "Retry-After": {
        "description": "Seconds to wait before retrying.",
        "required": True,
        "schema": {"type": "integer", "minimum": 0},
    },
}


class _AnswerSchema(GenerateJsonSchema):
    """In an answer a field with a default is always there (the routes dump whole models),
    except one whose default is None: a route may leave that out (`schemas.optional`)."""

    def field_is_required(
        self,
        field: core_schema.ModelField | core_schema.DataclassField | core_schema.TypedDictField,
        total: bool,
    ) -> bool:
        inner = field["schema"]
        if self.mode != "serialization" or inner["type"] != "default":
            return super().field_is_required(field, total)
        return "default_factory" in inner or inner.get("default") is not None


@cache
def document() -> dict[str, Any]:
    """The OpenAPI 3.1 document, built once per container."""
    wanted: list[tuple[type[BaseModel], JsonSchemaMode]] = [(schemas.ErrorBody, "serialization")]
    for operation in OPERATIONS:
        if operation.body is not None:
            wanted.append((operation.body, "validation"))
        wanted += [
            (m, "serialization") for m in operation.answers.values() if not isinstance(m, str)
        ]
    wanted.append((KioskRatingIn, "validation"))
    refs, definitions = models_json_schema(
        list(dict.fromkeys(wanted)), ref_template=REF, schema_generator=_AnswerSchema
    )
    components = definitions["$defs"]
    # Ratings are checked one by one (a bad one is `rejected`, not the batch's 400), so the
    # envelope takes any objects; the document shows what a rating should be.
    batch = components[refs[RatingBatchIn, "validation"]["$ref"].rsplit("/", 1)[1]]
    batch["properties"]["ratings"]["items"] = refs[KioskRatingIn, "validation"]

    paths: dict[str, dict[str, Any]] = {}
    for operation in OPERATIONS:
        paths.setdefault(operation.path, {})[operation.method.lower()] = _operation(operation, refs)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "storepulse",
            "version": "1",
            "summary": "Customer-satisfaction ratings from kiosks and SMS, callback tasks "
            "and satisfaction figures per store",
            "description": "The v1 HTTP contract; docs/api.md in the repository explains it. "
            "Errors are always the ErrorBody schema.",
            "license": {"name": "Apache-2.0", "identifier": "Apache-2.0"},
        },
        "paths": paths,
        "components": {
            "schemas": components,
            "responses": {str(status): _error(status, when) for status, when in ALWAYS.items()},
            "securitySchemes": SECURITY_SCHEMES,
            "headers": HEADERS,
        },
    }


def _operation(operation: Operation, refs: Mapping[Any, dict[str, Any]]) -> dict[str, Any]:
    described: dict[str, Any] = {
        "operationId": operation.operation_id,
        "tags": [operation.tag],
        "summary": operation.summary,
        "security": [{operation.security: []}] if operation.security else [],
        "responses": {},
    }
    parameters = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": {"type": "string", "minLength": 1, "maxLength": MAX_ID_CHARS},
        }
        for name in _path_names(operation.path)
    ]
    if operation.query is not None:
        parameters += _query_parameters(operation.query, operation.query_left_out)
    if parameters:
        described["parameters"] = parameters
    if operation.body is not None:
        media = "application/x-www-form-urlencoded" if operation.form else "application/json"
        described["requestBody"] = {
            "required": not operation.body_optional,
            "content": {media: {"schema": refs[operation.body, "validation"]}},
        }
    for status, answer in operation.answers.items():
        if answer == NO_CONTENT:
            described["responses"][str(status)] = {
                "description": "Done; no body",
                "headers": _headers(status),
            }
        elif isinstance(answer, str):
            described["responses"][str(status)] = _answer(
                status, TEXT_ANSWERS[answer], answer, {"type": "string"}
            )
        else:
            schema = refs[answer, "serialization"]
            described["responses"][str(status)] = _answer(
                status, _first_paragraph(answer.__doc__), "application/json", schema
            )
        for name, when in operation.optional_headers.get(status, {}).items():
            described["responses"][str(status)]["headers"][name] = {
                "description": when,
                "required": False,
                "schema": {"type": "integer", "minimum": 0}
                if name == "Retry-After"
                else {"type": "string"},
            }
    for status in sorted(ALWAYS.keys() | operation.errors.keys()):
        if status in operation.errors:
            described["responses"][str(status)] = _error(status, operation.errors[status])
        else:
            described["responses"][str(status)] = {"$ref": f"#/components/responses/{status}"}
    return described


def _answer(status: int, description: str, media: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "description": description,
        "headers": _headers(status),
        "content": {media: {"schema": schema}},
    }


def _error(status: int, description: str) -> dict[str, Any]:
    """An error answer, with the codes it may carry (`x-error-codes`) from the one table that
    maps the app's errors to statuses and codes (`http.answers`)."""
    codes = sorted({code for answered, code in answers().values() if answered == status})
    if status == 500:
        codes.append("internal_error")  # what no table lists: an error nobody expected
    error = _answer(
        status, description, "application/json", {"$ref": REF.format(model="ErrorBody")}
    )
    return error | {"x-error-codes": codes}


def _first_paragraph(doc: str | None) -> str:
    return " ".join((doc or "OK").strip().split("\n\n")[0].split())


def _headers(status: int) -> dict[str, Any]:
    names = ["X-Correlation-Id", "Cache-Control"]
    if status in RETRY_AFTER:
        names.append("Retry-After")
    return {name: {"$ref": f"#/components/headers/{name}"} for name in names}


def _path_names(path: str) -> list[str]:
    return [part[1:-1] for part in path.split("/") if part.startswith("{")]


def _query_parameters(model: type[BaseModel], left_out: tuple[str, ...]) -> list[dict[str, Any]]:
    """Query parameters from a query model: one per field (by alias), its JSON schema."""
    shape = model.model_json_schema(by_alias=True, ref_template=REF)
    required = set(shape.get("required", []))
    parameters = []
    for name, schema in shape["properties"].items():
        if name in left_out:
            continue
        # A query parameter is left out or a string: never null.
        if schema.get("default", 0) is None:
            del schema["default"]
        options = [o for o in schema.pop("anyOf", []) if o.get("type") != "null"]
        if options:
            schema |= options[0] if len(options) == 1 else {"anyOf": options}
        parameters.append(
            {"name": name, "in": "query", "required": name in required, "schema": schema}
        )
    return parameters
