"""One route of the OpenAPI document (`openapi.py`), the names of its credentials and the
words of the errors every capability's operations share."""

from __future__ import annotations

from dataclasses import dataclass, field

from pydantic import BaseModel

KIOSK, STAFF, INTEGRATION, TWILIO = "kioskToken", "staffToken", "integrationToken", "twilio"
# An answer without a body (204): in `Operation.answers` instead of a model or media type.
NO_CONTENT = ""

# What an error means, in the words every capability's operations share.
BAD_ID = "an id in the path is longer than 128 characters"
BAD_BODY = "the body is not JSON (`malformed_json`) or not a valid request (`bad_request`, "
BAD_BODY += "the failing fields in `details`)"
BAD_QUERY = "a query parameter is not valid (`bad_request`, the failing ones in `details`)"
NO_CREDENTIAL = "no credential, or a bad, expired, revoked or wrong kind of one"


@dataclass(frozen=True)
class Operation:
    """One route: its credential, request, answers and the errors particular to it (every
    operation may also answer the errors of ALWAYS)."""

    method: str
    path: str
    operation_id: str
    tag: str
    summary: str
    security: str | None  # the scheme's name; None: no credential
    answers: dict[int, type[BaseModel] | str]  # a model (JSON), a media type of text, NO_CONTENT
    errors: dict[int, str] = field(default_factory=dict)  # status: when, for this route
    body: type[BaseModel] | None = None
    body_optional: bool = False  # an empty body reads as {}
    form: bool = False  # the body is application/x-www-form-urlencoded
    query: type[BaseModel] | None = None
    query_left_out: tuple[str, ...] = ()  # parameters of `query` this route refuses
    # Headers an answer other than 429/503 may carry: status -> {header: when}.
    optional_headers: dict[int, dict[str, str]] = field(default_factory=dict)
