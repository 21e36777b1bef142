"""The pool's ID tokens (chalicelib/id_tokens.py) and the people they make (auth.staff_principal):
real tokens from moto's Cognito (tests/cognito.py), and tokens made here with moto's own
signing key (to set the claims) or with another key (forged)."""

from __future__ import annotations

import gzip
import importlib.resources
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from chalicelib import auth, id_tokens, tokens
from chalicelib.errors import DependencyUnavailable, Unauthorized
from chalicelib.storage import integrations, people
from devtools import dynamodb_local
from tests.cognito import LocalPool, cognito_client, moto_server
from tests.conftest import bearer, now, reset_caches

FUNCTIONS = Path(__file__).resolve().parents[2] / "functions"


def moto_signing_key() -> Any:
    """The private key moto signs every pool's ID tokens with (kid "dummy")."""
    resource = importlib.resources.files("moto.cognitoidp") / "resources" / "jwks-private.json.gz"
    return jwt.PyJWK(json.loads(gzip.decompress(resource.read_bytes())), algorithm="RS256").key


def claims_of(pool: LocalPool, **overrides: Any) -> dict[str, Any]:
    at = int(time.time())
    claims = {
        "iss": f"https://cognito-idp.us-east-1.amazonaws.com/{pool.pool_id}",
        "aud": pool.client_id,
        "sub": "a-sub",
        "token_use": "id",
        "email": "Ann@Example.com",
        "cognito:groups": ["store:store-a"],
        "iat": at,
        "exp": at + 600,
    }
    return claims | overrides


def signed(claims: dict[str, Any], key: Any = None, kid: str = "dummy") -> str:
    return jwt.encode(claims, key or moto_signing_key(), algorithm="RS256", headers={"kid": kid})


def header(token: str) -> dict[str, str]:
    """Headers as Chalice gives them to auth (names in lower case)."""
    return {"authorization": f"Bearer {token}"}


def unsigned(header: dict[str, Any], claims: dict[str, Any], signature: str = "") -> str:
    def part(value: dict[str, Any]) -> str:
        return tokens._b64encode(json.dumps(value).encode())

    return f"{part(header)}.{part(claims)}.{signature}"


@pytest.fixture
def fetches(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The JWKS fetches made (each still goes to moto's server)."""
    made: list[str] = []
    real = id_tokens._fetch

    def counted() -> dict[str, Any]:
        made.append(id_tokens.jwks_url())
        return real()

    monkeypatch.setattr(id_tokens, "_fetch", counted)
    return made


@pytest.fixture
def table(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A table on moto, for the removed-people list staff_principal reads. Ask for it before
    `cognito`: starting moto's mock resets the backends it shares with moto's server."""
    from moto import mock_aws

    monkeypatch.setenv("STOREPULSE_TABLE_NAME", "storepulse-id-tokens")
    with mock_aws():
        reset_caches()
        dynamodb_local.create_table(dynamodb_local.client(None), "storepulse-id-tokens")
        yield
    reset_caches()


def test_a_token_of_the_pool_gives_its_claims(cognito: LocalPool) -> None:
    token = cognito.id_token("ann@example.com", ["store:store-a"])

    claims = id_tokens.verify(token)

    assert claims["email"] == "ann@example.com"
    assert claims["cognito:groups"] == ["store:store-a"]
    assert claims["iss"] == id_tokens.issuer()


def test_a_token_of_another_app_client_is_refused(cognito: LocalPool) -> None:
    other = cognito_client(cognito.endpoint).create_user_pool_client(
        UserPoolId=cognito.pool_id,
        ClientName="another-app",
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH"],
    )["UserPoolClient"]["ClientId"]
    cognito.add_user("ann@example.com")
    token = LocalPool(cognito.endpoint, cognito.pool_id, other, cognito.passwords).sign_in(
        "ann@example.com"
    )["IdToken"]

    with pytest.raises(Unauthorized, match="another app"):
        id_tokens.verify(token)


def test_the_access_token_is_not_an_id_token(cognito: LocalPool) -> None:
    cognito.add_user("ann@example.com")
    access = cognito.sign_in("ann@example.com")["AccessToken"]

    with pytest.raises(Unauthorized):
        id_tokens.verify(access)
    with pytest.raises(Unauthorized, match="ID token"):
        id_tokens.verify(signed(claims_of(cognito, token_use="access")))


@pytest.mark.parametrize(
    ("overrides", "message"),
    [  # times in seconds from now, when the test runs
        ({"exp": -1 - id_tokens.CLOCK_SKEW_S}, "expired"),
        ({"iat": 60}, "not valid"),
        ({"iss": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_other"}, "not valid"),
        ({"aud": "another-client"}, "another app"),
    ],
)
def test_claims_of_the_pool_are_checked(
    cognito: LocalPool, overrides: dict[str, Any], message: str
) -> None:
    at = int(time.time())
    changed = {name: at + v if name in ("exp", "iat") else v for name, v in overrides.items()}
    assert id_tokens.verify(signed(claims_of(cognito)))["sub"] == "a-sub"  # the key is moto's

    with pytest.raises(Unauthorized, match=message):
        id_tokens.verify(signed(claims_of(cognito, **changed)))


@pytest.mark.parametrize("missing", ["exp", "iat", "iss", "aud", "sub", "token_use"])
def test_a_token_without_a_required_claim_is_refused(cognito: LocalPool, missing: str) -> None:
    claims = claims_of(cognito)
    del claims[missing]

    with pytest.raises(Unauthorized):
        id_tokens.verify(signed(claims))


def test_a_token_signed_with_another_key_is_refused(cognito: LocalPool) -> None:
    forger = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    with pytest.raises(Unauthorized, match="not valid"):
        id_tokens.verify(signed(claims_of(cognito, **{"cognito:groups": ["admin"]}), forger))


def test_alg_none_and_hs256_keyed_with_the_public_key_are_refused(cognito: LocalPool) -> None:
    import hashlib
    import hmac

    claims = claims_of(cognito, **{"cognito:groups": ["admin"]})
    public_pem = id_tokens._key("dummy").key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    confused = unsigned({"alg": "HS256", "kid": "dummy"}, claims)
    mac = hmac.new(public_pem, confused.rstrip(".").encode(), hashlib.sha256).digest()
    forged = [
        unsigned({"alg": "none", "kid": "dummy"}, claims),
        unsigned({"alg": "none"}, claims),
        confused + tokens._b64encode(mac),
        unsigned({"alg": "RS512", "kid": "dummy"}, claims, "c2ln"),
    ]

    for token in forged:
        with pytest.raises(Unauthorized, match="not valid"):
            id_tokens.verify(token)


def test_an_unknown_kid_fetches_the_keys_again_once_a_while(
    cognito: LocalPool, fetches: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = [1000.0]
    monkeypatch.setattr(id_tokens, "monotonic", lambda: clock[0])
    rotated = signed(claims_of(cognito), kid="rotated")

    id_tokens.verify(signed(claims_of(cognito)))
    for _ in range(3):  # a stream of made-up kids is not a stream of fetches
        with pytest.raises(Unauthorized):
            id_tokens.verify(rotated)
    assert len(fetches) == 1
    clock[0] += id_tokens._REFETCH_AFTER_S
    with pytest.raises(Unauthorized):
        id_tokens.verify(rotated)

    assert fetches == [f"{cognito.endpoint}/{cognito.pool_id}/.well-known/jwks.json"] * 2


def test_the_keys_are_kept_jwks_cache_s(cognito: LocalPool, fetches: list[str], monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(id_tokens, "monotonic", lambda: clock[0])
    token = signed(claims_of(cognito))

    id_tokens.verify(token)
    clock[0] += 3599  # STOREPULSE_JWKS_CACHE_S: 3600 by default
    id_tokens.verify(token)
    assert len(fetches) == 1
    clock[0] += 1
    id_tokens.verify(token)

    assert len(fetches) == 2


def test_jwks_down_is_503_never_500(cognito: LocalPool, monkeypatch: pytest.MonkeyPatch) -> None:
    from chalice.test import Client

    from app import app

    token = cognito.id_token("ann@example.com", ["store:store-a"])
    monkeypatch.setenv("STOREPULSE_COGNITO_ENDPOINT", "http://127.0.0.1:9")  # nothing listens
    reset_caches()

    with pytest.raises(DependencyUnavailable):
        id_tokens.verify(token)
    with Client(app) as client:
        response = client.http.get("/v1/callbacks/limits", headers=bearer(token))

    assert response.status_code == 503
    assert response.json_body["error"]["code"] == "unavailable"
    assert int(response.headers["Retry-After"]) >= 1


def test_keys_fetched_before_serve_while_the_jwks_is_down(
    cognito: LocalPool, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = [1000.0]
    monkeypatch.setattr(id_tokens, "monotonic", lambda: clock[0])
    token = signed(claims_of(cognito))
    id_tokens.verify(token)

    def down() -> dict[str, Any]:
        raise DependencyUnavailable("down", 5)

    monkeypatch.setattr(id_tokens, "_fetch", down)
    clock[0] += 3600

    assert id_tokens.verify(token)["sub"] == "a-sub"


@pytest.mark.parametrize(
    ("groups", "role", "store_ids", "regions"),
    [
        ([], "staff", set(), set()),
        (["store:store-a", "store:store-b"], "staff", {"store-a", "store-b"}, set()),
        (["manager:west", "store:store-a"], "manager", {"store-a"}, {"west"}),
        (["manager:west", "manager:east"], "manager", set(), {"west", "east"}),
        (["admin", "manager:west"], "admin", set(), {"west"}),
        (["store:", "manager:", "other"], "staff", set(), set()),
    ],
)
def test_groups_give_the_role_stores_and_regions(
    table: None, cognito: LocalPool, groups: list[str], role: str, store_ids: set, regions: set
) -> None:
    headers = header(signed(claims_of(cognito, **{"cognito:groups": groups})))

    principal = auth.staff_principal(headers)

    assert principal == auth.StaffPrincipal(
        "ann@example.com", role, frozenset(store_ids), frozenset(regions)
    )


def test_a_person_of_the_pool_signs_in_as_their_email(table: None, cognito: LocalPool) -> None:
    token = cognito.id_token("Bob@Example.com", ["manager:west"])

    principal = auth.staff_principal(header(token))

    assert (principal.subject, principal.role, principal.regions) == (
        "bob@example.com",
        "manager",
        frozenset({"west"}),
    )


def test_a_removed_person_is_refused_with_a_live_token(
    table: None, cognito: LocalPool, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = cognito.id_token("ann@example.com", ["admin"])
    assert auth.staff_principal(header(token)).role == "admin"

    monkeypatch.setattr(people, "removed_emails", lambda: frozenset({"ann@example.com"}))

    with pytest.raises(Unauthorized, match="removed"):
        auth.staff_principal(header(token))


def test_a_revoked_store_system_is_refused(table: None, monkeypatch: pytest.MonkeyPatch) -> None:
    headers = header(auth.issue_integration_token("int-1", ["store-a"], now()))
    assert auth.integration_principal(headers).store_ids == {"store-a"}

    monkeypatch.setattr(integrations, "revoked_integration_ids", lambda: frozenset({"int-1"}))

    with pytest.raises(Unauthorized, match="revoked"):
        auth.integration_principal(headers)


def test_local_staff_tokens_only_when_accepted(
    table: None, cognito: LocalPool, monkeypatch: pytest.MonkeyPatch
) -> None:
    headers = header(auth.issue_staff_token("mia", "manager", [], now(), regions=["west"]))
    assert auth.staff_principal(headers).regions == {"west"}

    monkeypatch.setenv("STOREPULSE_ACCEPT_LOCAL_STAFF_TOKENS", "false")
    reset_caches()

    with pytest.raises(Unauthorized):
        auth.staff_principal(headers)
    assert auth.staff_principal(header(cognito.id_token("ann@example.com"))).role == "staff"


def test_pool_tokens_only_when_a_pool_is_configured(table: None, cognito: LocalPool, monkeypatch):
    token = cognito.id_token("ann@example.com", ["admin"])
    monkeypatch.delenv("STOREPULSE_COGNITO_USER_POOL_ID")
    reset_caches()

    with pytest.raises(Unauthorized):
        auth.staff_principal(header(token))


@pytest.mark.parametrize(
    "garbage",
    [
        "x",
        "a.b.c",
        "....",
        "eyJhbGciOiJSUzI1NiJ9..",
        "é.é.é",
        tokens._b64encode(b"[" * 5000) + ".e30.",
    ],
)
def test_garbage_is_401(table: None, cognito: LocalPool, garbage: str) -> None:
    with pytest.raises(Unauthorized):
        auth.staff_principal(header(garbage))


def test_the_kiosk_path_loads_neither_jwt_nor_cryptography() -> None:
    """Importing the app and serving a kiosk's ratings (against moto's server, so no mock in
    the probe's process loads them first) leaves PyJWT and cryptography unloaded."""
    endpoint, table_name = moto_server(), "storepulse-cold-start"
    dynamodb_local.create_table(dynamodb_local.client(endpoint), table_name)
    probe = """
import json, sys, uuid
from datetime import UTC, datetime, timedelta
from chalice.test import Client
import app
from chalicelib.auth import issue_kiosk_token
from chalicelib.domain.survey import DEFAULT_SURVEY, Store
from chalicelib.storage import stores
stores.put_store(Store(store_id="store-a", name="A", timezone="UTC", country="US",
                       survey=DEFAULT_SURVEY))
at = datetime.now(UTC)
rating = {"rating_id": str(uuid.uuid4()), "score": 4, "reasons": [], "comment": None,
          "locale": "en", "callback": None,
          "tapped_at": (at - timedelta(seconds=5)).isoformat(timespec="milliseconds")}
batch = {"sent_at": at.isoformat(timespec="milliseconds"), "ratings": [rating]}
token = issue_kiosk_token("k-1", "store-a", at)
with Client(app.app) as client:
    answer = client.http.post("/v1/kiosk/ratings", body=json.dumps(batch),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
print(answer.status_code, answer.json_body["results"][0]["status"])
print(sorted({name.split(".")[0] for name in sys.modules} & {"jwt", "cryptography"}))
"""
    env = {
        "STOREPULSE_DYNAMODB_ENDPOINT": endpoint,
        "STOREPULSE_TABLE_NAME": table_name,
    }
    answer = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=FUNCTIONS,
        capture_output=True,
        text=True,
        check=False,
        env=os.environ | env,
    )

    assert answer.returncode == 0, answer.stderr[-2000:]
    assert answer.stdout.split("\n")[-3:-1] == ["200 stored", "[]"], answer.stdout
