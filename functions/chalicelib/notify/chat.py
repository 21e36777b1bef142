"""A Slack-compatible incoming webhook per store (optional): `{"text": ...}` by HTTPS POST."""

from __future__ import annotations

import json
import urllib.request

from ..config import settings
from ..observability import logger
from .topics import publish


def post_chat(url: str, text: str, store_id: str) -> None:
    """Best effort: the SNS notification is the one that must go out; chat is a copy."""
    if settings().notify_backend == "outbox":
        publish("chat", "", text, {"store_id": store_id, "webhook": url})
        return
    if not url.startswith("https://"):
        logger.warning("chat webhook is not https; skipped", extra={"store_id": store_id})
        return
    request = urllib.request.Request(  # noqa: S310 - https only, checked above
        url,
        data=json.dumps({"text": text}).encode(),
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=5):  # noqa: S310 - https only
            pass
    except OSError as error:
        logger.warning("chat webhook failed", extra={"store_id": store_id, "error": str(error)})
