"""The API's error vocabulary: each maps to one status and the error body
`{"error": {"code", "message", "details"}}` (README, "HTTP API").

They derive from ChaliceUnhandledError because Chalice turns any other exception a view
raises into a bare 500 before middleware sees it; these reach `api.http.http_boundary`.
"""

from __future__ import annotations

from typing import Any, ClassVar

from chalice.app import ChaliceUnhandledError


class ApiError(ChaliceUnhandledError):
    status: ClassVar[int] = 500
    code: str = "internal_error"

    def __init__(
        self,
        message: str,
        details: list[Any] | None = None,
        headers: dict[str, str | list[str]] | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.details = details or []
        self.headers: dict[str, str | list[str]] = headers or {}

    def body(self) -> dict[str, Any]:
        return error_body(self.code, self.message, self.details)


def error_body(code: str, message: str, details: list[Any] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details or []}}


class BadRequest(ApiError):
    status, code = 400, "bad_request"


class MalformedJson(ApiError):
    status, code = 400, "malformed_json"


class Unauthorized(ApiError):
    status, code = 401, "unauthorized"


class Forbidden(ApiError):
    status, code = 403, "forbidden"


class NotFound(ApiError):
    status, code = 404, "not_found"


class Conflict(ApiError):
    status, code = 409, "conflict"


class PayloadTooLarge(ApiError):
    status, code = 413, "payload_too_large"


class UnsupportedMediaType(ApiError):
    status, code = 415, "unsupported_media_type"


class DependencyUnavailable(ApiError):
    """A dependency (DynamoDB, a secret) failed; nothing was half-stored, the caller retries."""

    status, code = 503, "unavailable"

    def __init__(self, message: str, retry_after: int, details: list[Any] | None = None) -> None:
        super().__init__(message, details, {"Retry-After": str(retry_after)})


class RateLimited(ApiError):
    """Too many tries of a guessable secret; `Retry-After` says when the next one counts."""

    status, code = 429, "rate_limited"

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message, headers={"Retry-After": str(retry_after)})
