"""Twilio webhooks: request signatures (X-Twilio-Signature) and TwiML answers."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from xml.sax.saxutils import escape

_XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>'


def twilio_signature(url: str, params: Mapping[str, str], auth_token: str) -> str:
    """Twilio's signature: HMAC-SHA1 of the full URL followed by each POST parameter's name
    and value, sorted by name, keyed with the auth token; base64."""
    payload = url + "".join(name + params[name] for name in sorted(params))
    digest = hmac.new(auth_token.encode(), payload.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def is_valid_twilio_signature(
    url: str, params: Mapping[str, str], signature: str | None, auth_token: str
) -> bool:
    """Whether `signature` (the X-Twilio-Signature header) signs this URL and these
    parameters. `url` is the configured public URL, never one rebuilt from the request."""
    if not signature:
        return False
    expected = twilio_signature(url, params, auth_token)
    # Bytes: compare_digest refuses non-ASCII str, and the header is attacker-controlled.
    return hmac.compare_digest(expected.encode(), signature.encode())


def twiml(message: str | None) -> str:
    """A TwiML answer: one SMS reply, or nothing to send when `message` is None."""
    if message is None:
        return f"{_XML_DECLARATION}<Response/>"
    return f"{_XML_DECLARATION}<Response><Message>{escape(message)}</Message></Response>"
