"""Compact HS256 JSON Web Tokens (RFC 7519), signed and checked with the standard library.

Only HS256 is accepted, whatever the header says, so algorithm confusion ("none", RS256
with the key as a public key) cannot happen. Written here rather than imported because
PyJWT pulls in `cryptography` at import (about 40 ms of cold start) for algorithms we never
use; tests check these tokens against PyJWT both ways.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

_HEADER = {"alg": "HS256", "typ": "JWT"}
REQUIRED_CLAIMS = ("iss", "aud", "sub", "iat", "exp")


class TokenError(ValueError):
    """The token is malformed, forged, expired or meant for someone else."""


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signature(signing_input: str, key: str) -> str:
    digest = hmac.new(key.encode(), signing_input.encode("ascii"), hashlib.sha256).digest()
    return _b64encode(digest)


def encode(claims: dict[str, Any], key: str) -> str:
    header = _b64encode(json.dumps(_HEADER, separators=(",", ":")).encode())
    payload = _b64encode(json.dumps(claims, separators=(",", ":")).encode())
    signing_input = f"{header}.{payload}"
    return f"{signing_input}.{_signature(signing_input, key)}"


def decode(token: str, key: str, *, audience: str, issuer: str, now: float) -> dict[str, Any]:
    """The claims of a valid token; raises TokenError saying what is wrong."""
    parts = token.split(".")
    # A token is base64url and dots: anything else (the header is attacker-controlled and
    # may be any Unicode) is refused before it reaches the ASCII-only signing input.
    if len(parts) != 3 or not token.isascii():
        raise TokenError("the token is not valid")
    header_b64, payload_b64, signature = parts
    expected = _signature(f"{header_b64}.{payload_b64}", key)
    if not hmac.compare_digest(signature.encode(), expected.encode()):
        raise TokenError("the token is not valid")
    try:
        header = json.loads(_b64decode(header_b64))
        claims = json.loads(_b64decode(payload_b64))
    except ValueError:
        raise TokenError("the token is not valid") from None
    if not isinstance(header, dict) or header.get("alg") != "HS256" or not isinstance(claims, dict):
        raise TokenError("the token is not valid")
    if any(name not in claims for name in REQUIRED_CLAIMS):
        raise TokenError("the token is not valid")
    if claims["iss"] != issuer:
        raise TokenError("the token is not valid")
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    if audience not in audiences:
        raise TokenError(f"this is not a {audience} token")
    if not isinstance(claims["exp"], (int, float)) or claims["exp"] <= now:
        raise TokenError("the token has expired")
    return claims
