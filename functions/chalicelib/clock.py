"""The one clock of the app: every "now" comes from here, so a test can freeze it in one place."""

from datetime import UTC, datetime


def now() -> datetime:
    return datetime.now(UTC)
