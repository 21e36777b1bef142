"""What went wrong, as plain exceptions: each says what happened (`message`, and `details`
naming the fields), none knows HTTP. Handlers, flows, auth, storage and notify raise them;
domain/ has its own (it imports nothing of the app). `api.http.answers()`, the one table of
the HTTP boundary, gives each its status and code in the error body
`{"error": {"code", "message", "details"}}` (docs/api.md, "Errors").
"""

from __future__ import annotations

from typing import Any


class AppError(Exception):
    """Something the caller is told, with when to try again if that helps (`retry_after`, s)."""

    retry_after: int | None = None

    def __init__(self, message: str, details: list[Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or []


class BadRequest(AppError):
    """The request does not fit: a field, a parameter, a combination."""


class MalformedJson(AppError):
    """The body is not JSON at all."""


class PayloadTooLarge(AppError):
    """The body is larger than the API takes."""


class UnsupportedMediaType(AppError):
    """The body is not of a type the route reads."""


class Unauthorized(AppError):
    """No credential, or one that proves nothing (wrong, expired, revoked)."""


class InvalidPairingCode(Unauthorized):
    """A kiosk's pairing code that is unknown, used or expired."""


class Forbidden(AppError):
    """A valid credential that does not allow this."""


class NotFound(AppError):
    """What the request names does not exist."""


class Conflict(AppError):
    """What the request changes was changed meanwhile, or is in a state that refuses it."""


class StoreExists(Conflict):
    """A store with that id exists already."""


class ScaleLocked(Conflict):
    """The survey's scale cannot change: the store has collected ratings on it."""


class RateLimited(AppError):
    """Too many tries of a guessable secret; `retry_after` says when the next one counts."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class DependencyUnavailable(AppError):
    """A dependency (DynamoDB, a secret, the SMS provider) failed; nothing was half-stored,
    the caller retries after `retry_after` seconds."""

    def __init__(self, message: str, retry_after: int, details: list[Any] | None = None) -> None:
        super().__init__(message, details)
        self.retry_after = retry_after
