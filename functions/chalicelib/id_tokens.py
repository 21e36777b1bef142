"""The Cognito user pool's ID tokens, as staff, managers and admins sign in with them.

A token is accepted only if it is RS256, signed by a key of the pool's JWKS (by its `kid`),
for the staff page's app client (`aud`), an ID token (`token_use` = id), issued by the pool
(`iss`) and not expired. The JWKS is fetched once per container and kept `jwks_cache_s`;
a `kid` it does not have makes one fetch more (Cognito rotated its keys), at most once per
`_REFETCH_AFTER_S`, so a stream of made-up kids cannot turn into a stream of fetches. A
fetch that fails is DependencyUnavailable (503 and Retry-After), never a 500; a set fetched
before is used meanwhile.

PyJWT, and `cryptography` with it (a cold-start cost of its own), is imported in `verify` only:
the kiosk ingest path never loads this module's dependencies.
"""

from __future__ import annotations

import json
import urllib.request
from dataclasses import dataclass
from time import monotonic
from typing import Any

from .config import settings
from .errors import DependencyUnavailable, Unauthorized
from .observability import logger

FETCH_TIMEOUT_S = 3.0  # inside a request: Cognito answers its JWKS in milliseconds
# A token issued a moment ago by a clock a little ahead of ours has an `iat` in our future:
# PyJWT refuses that without a leeway (which also lets `exp` be this late).
CLOCK_SKEW_S = 5
_REFETCH_AFTER_S = 60.0  # the least time between two fetches for an unknown kid


@dataclass(frozen=True)
class _KeySet:
    keys: dict[str, Any]  # kid -> jwt.PyJWK
    expires_at: float  # monotonic(): fetched again from then on
    refetch_from: float  # monotonic(): a kid not in `keys` makes a fetch from then on


_key_set: _KeySet | None = None


def issuer() -> str:
    """The pool's `iss`: always the regional Cognito address, also on moto's server."""
    config = settings()
    return f"https://cognito-idp.{config.region}.amazonaws.com/{config.cognito_user_pool_id}"


def jwks_url() -> str:
    config = settings()
    base = config.cognito_endpoint or f"https://cognito-idp.{config.region}.amazonaws.com"
    return f"{base.rstrip('/')}/{config.cognito_user_pool_id}/.well-known/jwks.json"


def verify(token: str) -> dict[str, Any]:
    """The claims of a valid ID token of the pool; Unauthorized saying what is wrong."""
    import jwt

    config = settings()
    if not config.cognito_user_pool_id or not config.cognito_client_id:
        raise Unauthorized("sign-in with the user pool is not configured")
    try:
        header = jwt.get_unverified_header(token)
    except jwt.InvalidTokenError:
        raise Unauthorized("the token is not valid") from None
    # Only RS256, whatever else the header names: no `none`, no HS256 keyed with the public key.
    kid = header.get("kid")
    if header.get("alg") != "RS256" or not isinstance(kid, str):
        raise Unauthorized("the token is not valid")
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            _key(kid).key,
            algorithms=["RS256"],
            audience=config.cognito_client_id,
            issuer=issuer(),
            leeway=CLOCK_SKEW_S,
            options={"require": ["exp", "iat", "iss", "aud", "sub", "token_use"]},
        )
    except jwt.ExpiredSignatureError:
        raise Unauthorized("the token has expired; sign in again") from None
    except jwt.InvalidAudienceError:
        raise Unauthorized("this token is for another app") from None
    except jwt.InvalidTokenError:
        raise Unauthorized("the token is not valid") from None
    if claims["token_use"] != "id":  # noqa: S105 - a claim's value, not a secret
        raise Unauthorized("send the ID token, not the access token")
    return claims


def _key(kid: str) -> Any:
    """The pool's key `kid` (a jwt.PyJWK), from the cached set or a new fetch."""
    global _key_set
    now = monotonic()
    known = _key_set
    if (
        known is None
        or now >= known.expires_at
        or (kid not in known.keys and now >= known.refetch_from)
    ):
        try:
            known = _KeySet(_fetch(), now + settings().jwks_cache_s, now + _REFETCH_AFTER_S)
        except DependencyUnavailable:
            if known is None:
                raise
            # Cognito is unreachable: the keys fetched before still prove what they proved,
            # and the next try waits, so requests do not each wait for a timeout.
            logger.warning("the pool's JWKS could not be fetched; the cached keys are used")
            known = _KeySet(known.keys, now + _REFETCH_AFTER_S, now + _REFETCH_AFTER_S)
        _key_set = known
    if kid not in known.keys:
        raise Unauthorized("the token is not valid")
    return known.keys[kid]


def _fetch() -> dict[str, Any]:
    from jwt import PyJWK, PyJWKError

    url = jwks_url()
    try:
        with urllib.request.urlopen(url, timeout=FETCH_TIMEOUT_S) as answer:  # noqa: S310 - https or the configured local endpoint
            document = json.loads(answer.read())
        entries = document["keys"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        logger.warning(
            "the pool's JWKS could not be fetched", extra={"error": type(error).__name__}
        )
        raise DependencyUnavailable(
            "sign-in cannot be checked right now; retry later", settings().retry_after_s
        ) from error
    keys = {}
    for entry in entries if isinstance(entries, list) else []:
        try:
            if entry.get("kty") == "RSA" and isinstance(entry.get("kid"), str):
                keys[entry["kid"]] = PyJWK(entry, algorithm="RS256")
        except (PyJWKError, AttributeError):
            continue  # a key we would never accept a token of
    return keys


def clear_caches() -> None:
    global _key_set
    _key_set = None
