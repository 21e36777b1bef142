"""Our HS256 tokens are standard JWTs: PyJWT reads ours and we read PyJWT's; forgeries fail."""

from __future__ import annotations

import base64
import json
import time

import jwt
import pytest

from chalicelib import tokens

pytestmark = pytest.mark.unit

KEY = "k" * 64
NOW = time.time()
CLAIMS = {
    "iss": "storepulse",
    "aud": "kiosk",
    "sub": "k-1",
    "iat": int(NOW),
    "exp": int(NOW) + 3600,
}  # outlives the test run


def decode(token: str, **overrides):
    options = {"audience": "kiosk", "issuer": "storepulse", "now": NOW} | overrides
    return tokens.decode(token, KEY, **options)


def test_pyjwt_verifies_our_tokens():
    ours = tokens.encode(CLAIMS, KEY)

    assert jwt.decode(ours, KEY, algorithms=["HS256"], audience="kiosk") == CLAIMS


def test_we_verify_pyjwt_tokens():
    theirs = jwt.encode(CLAIMS, KEY, algorithm="HS256")

    assert decode(theirs) == CLAIMS


def _b64(value: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


@pytest.mark.parametrize(
    ("token", "message"),
    [
        (jwt.encode(CLAIMS, "another-key" * 4, algorithm="HS256"), "not valid"),
        (f"{_b64({'alg': 'none'})}.{_b64(CLAIMS)}.", "not valid"),
        (jwt.encode(CLAIMS, KEY, algorithm="HS512"), "not valid"),
        (jwt.encode(CLAIMS | {"exp": int(NOW) - 1}, KEY, algorithm="HS256"), "expired"),
        (jwt.encode(CLAIMS | {"aud": "staff"}, KEY, algorithm="HS256"), "not a kiosk token"),
        (jwt.encode(CLAIMS | {"iss": "evil"}, KEY, algorithm="HS256"), "not valid"),
        (jwt.encode({"sub": "k-1", "aud": "kiosk"}, KEY, algorithm="HS256"), "not valid"),
        ("a.b", "not valid"),
        ("", "not valid"),
    ],
)
def test_bad_tokens_are_refused(token, message):
    with pytest.raises(tokens.TokenError, match=message):
        decode(token)


def test_a_tampered_payload_is_refused():
    header, _, signature = tokens.encode(CLAIMS, KEY).split(".")
    tampered = f"{header}.{_b64(CLAIMS | {'sub': 'k-2'})}.{signature}"

    with pytest.raises(tokens.TokenError, match="not valid"):
        decode(tampered)
