"""Who is calling, and what they may do.

- People (staff, managers, admins) send the Cognito user pool's ID token (`id_tokens.py`:
  RS256 against the pool's JWKS); the pool's groups name the role and the stores or region:
  `admin`, `store:<store_id>`, `manager:<region>`. A removed person is refused at once
  (`storage.people.removed_emails()`, cached `revocation_cache_s`), even with a live token.
- Kiosks and store systems (`integration`) send HS256 JWTs (`tokens.py`) signed with one key
  (the secret `STOREPULSE_TOKEN_SECRET_NAME`), one audience per kind; so do the local stack
  and the tests for people (`issue_staff_token`), accepted only with
  `accept_local_staff_tokens`. A revoked store system is refused within `revocation_cache_s`.
- Twilio's webhook signature is checked in `notify/twilio_webhook.py`.

A kiosk's credential costs no table read per request: the signature proves which kiosk it
is, and the revocation list is read with the kiosk's store in one round trip per cache
period (`storage.stores.prefetch_for_kiosk`), so a revoked kiosk is locked out within
`revocation_cache_s`. Tokens already verified are kept per container (a kiosk sends the same
one all day); expiry is checked on every request. What only people and store systems need
(the ID token verifier, their revocation lists) is imported on their first request: the
kiosk's ingest has a cold-start budget.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal
from uuid import uuid4

from . import tokens
from .config import secret, settings
from .domain.survey import Store
from .errors import DependencyUnavailable, Forbidden, Unauthorized
from .storage import stores

Role = Literal["staff", "manager", "admin"]

_ISSUER = "storepulse"


@dataclass(frozen=True)
class KioskPrincipal:
    kiosk_id: str
    store_id: str


@dataclass(frozen=True)
class StaffPrincipal:
    """A person (or a store system, as staff of its stores) and what they may see and edit.

    staff: their stores (`store_ids`); manager: also every store of their `regions`, and
    they edit those; admin: everything."""

    subject: str  # the e-mail (lower case) of a pool user; `sub` of an HS256 token
    role: Role
    store_ids: frozenset[str]
    regions: frozenset[str] = frozenset()

    def can_see(self, store: Store) -> bool:
        return store.store_id in self.store_ids or self.can_manage(store)

    def can_manage(self, store: Store) -> bool:
        """May edit the store, its survey, kiosks and staff."""
        if self.role == "admin":
            return True
        return self.role == "manager" and store.region is not None and store.region in self.regions

    def require_store(self, store_id: str) -> None:
        """May see and act on the store; Forbidden otherwise, also when a non-admin names a
        store that does not exist (no probing of ids). A manager's store is looked up
        (cached `store_cache_s`) for its region."""
        if self.role == "admin" or store_id in self.store_ids:
            return
        if self.role == "manager":
            store = stores.get_store(store_id)
            if store is not None and self.can_manage(store):
                return
        raise Forbidden(f"this credential is not allowed for store {store_id}")

    def require_manage(self, store: Store) -> None:
        if not self.can_manage(store):
            raise Forbidden(
                f"only an admin or a manager of its region may change store {store.store_id}"
            )

    def require_admin(self) -> None:
        if self.role != "admin":
            raise Forbidden("this is for admins")


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
    role: Role,
    store_ids: Iterable[str],
    now: datetime,
    ttl: timedelta | None = None,
    regions: Iterable[str] = (),
) -> str:
    """A local staff token (tests and the local stack; accepted only with
    `accept_local_staff_tokens`): a manager's names their `regions`."""
    ttl = ttl or timedelta(hours=settings().staff_token_ttl_hours)
    return _sign(
        {
            "iss": _ISSUER,
            "aud": "staff",
            "sub": subject,
            "role": role,
            "stores": sorted(store_ids),
            "regions": sorted(regions),
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
    """A store system's credential (audience "integration", `sub` = its integration id): its
    stores, or all for admin; refused within `revocation_cache_s` of its revocation."""
    from .storage import integrations

    claims = _claims(headers, "integration")
    if str(claims["sub"]) in integrations.revoked_integration_ids():
        raise Unauthorized("this credential has been revoked")
    role: Role = "admin" if claims.get("role") == "admin" else "staff"
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
    """A person: a pool ID token, or (tests and the local stack only) an HS256 staff token;
    told apart by the header's `alg` before any signature is checked. 401 for a removed
    person."""
    from . import id_tokens
    from .storage import people

    token, config = _bearer(headers), settings()
    algorithm = _algorithm(token)
    if algorithm == "RS256" and config.cognito_user_pool_id:
        principal = _pool_person(id_tokens.verify(token))
    elif algorithm == "HS256" and config.accept_local_staff_tokens:
        principal = _local_person(_claims(headers, "staff"))
    else:
        raise Unauthorized("the token is not valid")
    if principal.subject.lower() in people.removed_emails():
        raise Unauthorized("this person has been removed")
    return principal


def _algorithm(token: str) -> str | None:
    """The `alg` a token's header names (unchecked: it only picks the verifier)."""
    header = token.partition(".")[0]
    try:
        value = json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))
    # binascii.Error and UnicodeDecodeError are ValueErrors; a header of deeply nested
    # arrays is a RecursionError, not a 500.
    except (ValueError, RecursionError):
        return None
    algorithm = value.get("alg") if isinstance(value, dict) else None
    return algorithm if isinstance(algorithm, str) else None


def _pool_person(claims: Mapping[str, Any]) -> StaffPrincipal:
    """Role and stores from the pool's groups: admin wins, then any manager group."""
    email = claims.get("email")
    if not isinstance(email, str) or not email:
        raise Unauthorized("the token names no e-mail")
    groups = claims.get("cognito:groups") or []
    if not isinstance(groups, list):
        raise Unauthorized("the token is not valid")
    store_ids = frozenset(_named(groups, "store:"))
    regions = frozenset(_named(groups, "manager:"))
    role: Role = "admin" if "admin" in groups else "manager" if regions else "staff"
    return StaffPrincipal(email.lower(), role, store_ids, regions)


def _named(groups: list[Any], prefix: str) -> list[str]:
    return [
        g[len(prefix) :]
        for g in groups
        if isinstance(g, str) and g.startswith(prefix) and len(g) > len(prefix)
    ]


def _local_person(claims: Mapping[str, Any]) -> StaffPrincipal:
    role = claims.get("role")
    if role not in ("staff", "manager", "admin"):
        raise Unauthorized("the token is not valid")
    return StaffPrincipal(
        subject=str(claims["sub"]),
        role=role,
        store_ids=frozenset(claims.get("stores", [])),
        regions=frozenset(claims.get("regions", [])),
    )
