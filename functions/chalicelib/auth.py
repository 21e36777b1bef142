"""Who is calling: kiosk, staff (role `staff` or `admin`) and store-system (`integration`)
bearer tokens, HS256 JWTs (`tokens.py`) signed with one key (the secret
`STOREPULSE_TOKEN_SECRET_NAME`), one audience per kind. Twilio's webhook signature is
checked in `notify/twilio_webhook.py`.

A kiosk's credential costs no table read per request: the signature proves which kiosk it
is, and the revocation list is read with the kiosk's store in one round trip per cache
period (`storage.stores.prefetch_for_kiosk`), so a revoked kiosk is locked out within
`revocation_cache_s`. Tokens already verified are kept per container (a kiosk sends the same
one all day); expiry is checked on every request.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal
from uuid import uuid4

from . import tokens
from .config import secret, settings
from .errors import DependencyUnavailable, Forbidden, Unauthorized
from .storage import stores

_ISSUER = "storepulse"


@dataclass(frozen=True)
class KioskPrincipal:
    kiosk_id: str
    store_id: str


@dataclass(frozen=True)
class StaffPrincipal:
    subject: str
    role: Literal["staff", "admin"]
    store_ids: frozenset[str]

    def require_store(self, store_id: str) -> None:
        """Staff see only their stores; an admin sees all."""
        if self.role != "admin" and store_id not in self.store_ids:
            raise Forbidden(f"this credential is not allowed for store {store_id}")


def _signing_key() -> str:
    try:
        return secret(settings().token_secret_name)
    except RuntimeError:
        raise
    except Exception as error:  # Secrets Manager throttled or unreachable
        raise DependencyUnavailable(
            "credentials cannot be checked right now; retry later", settings().retry_after_s
        ) from error


def _sign(claims: dict[str, Any]) -> str:
    return tokens.encode(claims, _signing_key())


def issue_kiosk_token(kiosk_id: str, store_id: str, now: datetime) -> str:
    ttl = timedelta(days=settings().kiosk_token_ttl_days)
    return _sign(
        {
            "iss": _ISSUER,
            "aud": "kiosk",
            "sub": kiosk_id,
            "store": store_id,
            "iat": int(now.timestamp()),
            "exp": int((now + ttl).timestamp()),
            "jti": uuid4().hex,
        }
    )


def issue_staff_token(
    subject: str,
    role: Literal["staff", "admin"],
    store_ids: list[str],
    now: datetime,
    ttl: timedelta | None = None,
) -> str:
    ttl = ttl or timedelta(hours=settings().staff_token_ttl_hours)
    return _sign(
        {
            "iss": _ISSUER,
            "aud": "staff",
            "sub": subject,
            "role": role,
            "stores": sorted(store_ids),
            "iat": int(now.timestamp()),
            "exp": int((now + ttl).timestamp()),
            "jti": uuid4().hex,
        }
    )


def _bearer(headers: Mapping[str, str]) -> str:
    value = headers.get("authorization", "")
    scheme, _, token = value.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("send the credential as 'Authorization: Bearer <token>'")
    return token.strip()


# Claims of tokens already verified in this container, by (key, token): a kiosk sends the
# same token all day. Expiry is still checked on every request.
_verified: dict[tuple[str, str], dict[str, Any]] = {}
_VERIFIED_MAX = 2048


def _claims(headers: Mapping[str, str], audience: str) -> dict[str, Any]:
    token, key, now = _bearer(headers), _signing_key(), time.time()
    claims = _verified.get((key, token))
    if claims is not None and claims["aud"] == audience and claims["exp"] > now:
        return claims
    try:
        claims = tokens.decode(token, key, audience=audience, issuer=_ISSUER, now=now)
    except tokens.TokenError as error:
        raise Unauthorized(str(error)) from None
    if len(_verified) >= _VERIFIED_MAX:
        _verified.clear()
    _verified[key, token] = claims
    return claims


def kiosk_principal(headers: Mapping[str, str]) -> KioskPrincipal:
    claims = _claims(headers, "kiosk")
    kiosk = KioskPrincipal(kiosk_id=str(claims["sub"]), store_id=str(claims.get("store", "")))
    if not kiosk.store_id:
        raise Unauthorized("the token is not valid")
    stores.prefetch_for_kiosk(kiosk.store_id)
    if kiosk.kiosk_id in stores.revoked_kiosk_ids():
        raise Unauthorized("this kiosk has been revoked; pair it again")
    return kiosk


def integration_principal(headers: Mapping[str, str]) -> StaffPrincipal:
    """A store system's credential (audience "integration"): its stores, or all for admin."""
    claims = _claims(headers, "integration")
    role: Literal["staff", "admin"] = "admin" if claims.get("role") == "admin" else "staff"
    return StaffPrincipal(
        subject=str(claims["sub"]), role=role, store_ids=frozenset(claims.get("stores", []))
    )


def issue_integration_token(
    subject: str, store_ids: list[str], now: datetime, ttl: timedelta = timedelta(days=365)
) -> str:
    return _sign(
        {
            "iss": _ISSUER,
            "aud": "integration",
            "sub": subject,
            "stores": sorted(store_ids),
            "iat": int(now.timestamp()),
            "exp": int((now + ttl).timestamp()),
            "jti": uuid4().hex,
        }
    )


def staff_principal(headers: Mapping[str, str]) -> StaffPrincipal:
    claims = _claims(headers, "staff")
    role = claims.get("role")
    if role not in ("staff", "admin"):
        raise Unauthorized("the token is not valid")
    return StaffPrincipal(
        subject=str(claims["sub"]), role=role, store_ids=frozenset(claims.get("stores", []))
    )
