"""HTTP edges shared by every blueprint: body parsing, and the one place errors become
answers (the table `answers()`, applied by `http_boundary`)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta
from functools import cache, wraps
from typing import Any, TypeVar
from urllib.parse import parse_qsl
from uuid import uuid4
from zoneinfo import ZoneInfo

from chalice.app import Blueprint, ChaliceUnhandledError, Request, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ..config import settings
from ..domain.ratings import describe_errors
from ..errors import (
    AppError,
    BadRequest,
    Conflict,
    DependencyUnavailable,
    Forbidden,
    InvalidPairingCode,
    MalformedJson,
    NotFound,
    PayloadTooLarge,
    RateLimited,
    ScaleLocked,
    StoreExists,
    Unauthorized,
    UnsupportedMediaType,
)
from ..observability import logger

M = TypeVar("M", bound=BaseModel)

# A client's X-Correlation-Id is echoed in a header and written in every log line: only
# characters that are safe in both (no control characters, nothing a header cannot carry).
_CORRELATION_ID = re.compile(r"[A-Za-z0-9._:@+=/-]{1,64}")

# Chalice answers some requests itself ({"Code", "Message"}); they get our error body too.
_CHALICE_ERRORS = {
    "UnsupportedMediaType": ("unsupported_media_type", "send the body as application/json"),
    "MethodNotAllowedError": ("method_not_allowed", None),
    "BadRequestError": ("bad_request", None),
    "NotFoundError": ("not_found", None),
    "InternalServerError": ("internal_error", "an internal error occurred"),
}


# Ids in paths and queries become parts of DynamoDB keys (a sort key holds at most 1,024
# bytes, and a longer one is a ValidationException, not a miss). Every id of this API is far
# shorter, so a longer one is refused before storage sees it.
MAX_ID_CHARS = 128
# Dates outside these years are typos or probes. Inside them, and with a period of at most
# MAX_PERIOD, every computation on a period (the end of a `to` date, the previous period of
# the same length, bucket starts in any time zone) stays far inside the calendar.
FIRST_YEAR, LAST_YEAR = 2000, 2099
MAX_PERIOD = timedelta(days=5 * 366)


def check_id(name: str, value: str) -> str:
    """`value` if it can be an id (of a store, kiosk, task): 400 naming `name` if not."""
    if len(value) > MAX_ID_CHARS:
        raise BadRequest(
            f"{name} is too long: ids are at most {MAX_ID_CHARS} characters",
            [{"field": name, "message": f"at most {MAX_ID_CHARS} characters"}],
        )
    return value


def check_path_ids(uri_params: Mapping[str, str] | None) -> None:
    """Every id in the request's path (`{store_id}`, `{kiosk_id}`, `{task_id}`): one check
    for every route, so a new route with an id in its path is covered too."""
    for name, value in (uri_params or {}).items():
        check_id(name, value)


def parse_body(request: Request, model: type[M], *, empty_as: str | None = None) -> M:
    """The request body as `model`: 400 malformed_json if it is not JSON, 400 with the
    failing fields if it does not fit the model."""
    raw = request.raw_body or b""
    if not raw.strip() and empty_as is not None:
        raw = empty_as.encode()
    try:
        return model.model_validate_json(raw)
    except ValidationError as error:
        if any(item["type"] == "json_invalid" for item in error.errors()):
            raise MalformedJson("the body is not valid JSON") from None
        if any(item["type"] == "model_type" for item in error.errors()):
            raise BadRequest("the body must be a JSON object") from None
        raise BadRequest("the body is not a valid request", describe_errors(error)) from None


def parse_form(request: Request) -> dict[str, str]:
    """The body as form fields (application/x-www-form-urlencoded): 400 if it is not UTF-8."""
    raw = request.raw_body or b""
    try:
        body = raw.decode() if isinstance(raw, bytes) else raw
    except UnicodeDecodeError:
        raise BadRequest("the body is not UTF-8 form data") from None
    return dict(parse_qsl(body, keep_blank_values=True))


def parse_query(params: Mapping[str, str] | None, model: type[M]) -> M:
    """Query parameters as `model`: 400 with the failing parameters if they do not fit."""
    try:
        return model.model_validate(params or {})
    except ValidationError as error:
        raise BadRequest("the query is not valid", describe_errors(error)) from None


class PeriodQuery(BaseModel):
    """`from` and `to`: dates (a whole day) or date-times, read in the store's time zone."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, defer_build=True)

    start: datetime | date | None = Field(default=None, alias="from")
    end: datetime | date | None = Field(default=None, alias="to")

    @field_validator("start", "end", mode="before")
    @classmethod
    def _date_or_datetime(cls, value: object) -> object:
        """`2026-11-20` is a date (a whole day), `2026-11-20T13:00` a moment."""
        if isinstance(value, str) and len(value) == 10:
            return date.fromisoformat(value)
        return value

    def period(self, zone: str, at: datetime, default_span: timedelta) -> tuple[datetime, datetime]:
        """[start, end): a `to` date includes that whole day; without `to`, up to `at`;
        without `from`, `default_span` before the end. 400 if a date is outside the years
        FIRST_YEAR to LAST_YEAR or the period is longer than MAX_PERIOD."""
        for value in (self.start, self.end):
            if value is not None and not FIRST_YEAR <= value.year <= LAST_YEAR:
                raise BadRequest(
                    f"the range is out of bounds: `from` and `to` must be between "
                    f"{FIRST_YEAR}-01-01 and {LAST_YEAR}-12-31"
                )
        end = _local(self.end, ZoneInfo(zone), end=True) if self.end else at
        start = _local(self.start, ZoneInfo(zone), end=False) if self.start else end - default_span
        if start >= end:
            raise BadRequest("`from` must be before `to`")
        if end - start > MAX_PERIOD:
            raise BadRequest(
                f"the range is out of bounds: at most {MAX_PERIOD.days} days (5 years) "
                "from `from` to `to`"
            )
        return start, end


def _local(value: datetime | date, zone: ZoneInfo, *, end: bool) -> datetime:
    """A date or date-time read in the store's zone; a date `to` includes that whole day."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=zone)
    moment = datetime(value.year, value.month, value.day, tzinfo=zone)
    return moment + timedelta(days=1) if end else moment


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        body=body,
        status_code=status,
        headers={"Content-Type": "application/json", **(headers or {})},
    )


def error_body(code: str, message: str, details: list[Any] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details or []}}


@cache
def answers() -> dict[type[Exception], tuple[int, str]]:
    """Each error the app raises, as the API answers it: (status, code). An error answers
    as its class or the nearest listed parent; one that is not listed is a bug (500).

    Built on the first error, not at import: the task rules it names cost ~10 ms to import,
    which the kiosk ingest path (a cold-start budget) never needs."""
    from ..domain.tasks import OutOfScale, TransitionError

    return {
        BadRequest: (400, "bad_request"),
        MalformedJson: (400, "malformed_json"),
        OutOfScale: (400, "bad_request"),
        Unauthorized: (401, "unauthorized"),
        InvalidPairingCode: (401, "invalid_pairing_code"),
        Forbidden: (403, "forbidden"),
        NotFound: (404, "not_found"),
        Conflict: (409, "conflict"),
        StoreExists: (409, "store_exists"),
        ScaleLocked: (409, "scale_locked"),
        TransitionError: (409, "conflict"),
        PayloadTooLarge: (413, "payload_too_large"),
        UnsupportedMediaType: (415, "unsupported_media_type"),
        RateLimited: (429, "rate_limited"),
        DependencyUnavailable: (503, "unavailable"),
    }


def answer_of(error: Exception) -> tuple[int, str] | None:
    """(status, code) of `error` from `answers()`, or None if it is not one the API answers."""
    table = answers()
    return next((table[kind] for kind in type(error).__mro__ if kind in table), None)


def error_response(error: Exception) -> Response:
    """The answer to `error`: its status and error body (`Retry-After` where it says when to
    retry); a 500 without a trace for an error the table does not know."""
    answer = answer_of(error)
    if answer is None:
        logger.exception("unhandled error")
        body = error_body("internal_error", "an internal error occurred")
        return Response(body=body, status_code=500)
    status, code = answer
    logger.info("request refused", extra={"status": status, "code": code})
    details = error.details if isinstance(error, AppError) else []
    retry_after = error.retry_after if isinstance(error, AppError) else None
    headers: dict[str, str | list[str]] = {}
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    return Response(body=error_body(code, str(error), details), status_code=status, headers=headers)


class _Answered(ChaliceUnhandledError):
    """An error of `answers()` on its way from a view to `http_boundary`."""

    def __init__(self, error: Exception) -> None:
        super().__init__(str(error))
        self.error = error


class ApiBlueprint(Blueprint):
    """A Blueprint whose views' errors reach `http_boundary`.

    Chalice turns any exception a view raises into its own 500 before middleware sees it,
    except a ChaliceUnhandledError: each view is wrapped so that the errors the API answers
    travel in one. Others are bugs and keep Chalice's 500 (rewritten to our error body)."""

    def route(self, path: str, **kwargs: Any) -> Callable[..., Any]:
        register = super().route(path, **kwargs)

        def decorator(view: Callable[..., Any]) -> Any:
            @wraps(view)
            def answered(*args: Any, **view_kwargs: Any) -> Any:
                try:
                    return view(*args, **view_kwargs)
                except Exception as error:
                    if answer_of(error) is None:
                        raise
                    raise _Answered(error) from error

            return register(answered)

        return decorator


def http_boundary(event: Request, get_response: Callable[[Request], Response]) -> Response:
    """Middleware: tag logs with a correlation id, enforce the body size limit, answer errors
    (and Chalice's own) with the error body, and never leak a stack trace."""
    supplied = event.headers.get("x-correlation-id", "")[:64]
    correlation_id = (
        supplied
        if _CORRELATION_ID.fullmatch(supplied)
        else (event.context or {}).get("requestId") or uuid4().hex
    )[:64]
    logger.set_correlation_id(correlation_id)
    try:
        if len(event.raw_body or b"") > settings().max_body_bytes:
            raise PayloadTooLarge(f"the body is larger than {settings().max_body_bytes} bytes")
        check_path_ids(event.uri_params)
        response = get_response(event)
    except _Answered as answered:
        response = error_response(answered.error)
    except Exception as error:
        response = error_response(error)
    _rewrite_chalice_error(response)
    response.headers.setdefault("Access-Control-Allow-Origin", settings().cors_origin)
    # Pages on another origin read these (a 429 or 503 says when to retry).
    response.headers.setdefault("Access-Control-Expose-Headers", "Retry-After, X-Correlation-Id")
    response.headers["X-Correlation-Id"] = correlation_id
    # Answers carry phone numbers and tokens: never cached by a browser or a proxy, and
    # never sniffed into another type (a JSON answer must not render as a page).
    response.headers.setdefault("Cache-Control", "no-store")
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _rewrite_chalice_error(response: Response) -> None:
    body = response.body
    if response.status_code < 400 or not isinstance(body, dict) or "Code" not in body:
        return
    code, message = _CHALICE_ERRORS.get(str(body["Code"]), ("error", None))
    response.body = error_body(code, message or str(body.get("Message", "")))
    if "Content-Type" in response.headers and response.headers["Content-Type"] == "text/plain":
        del response.headers["Content-Type"]
