"""Webhook signatures and retry timing (domain/webhooks.py), the signature checked by an
independent implementation of the contract written out here."""

from __future__ import annotations

import hashlib
import hmac
import random
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from chalicelib.domain.webhooks import (
    FIRST_RETRY_S,
    LONGEST_WAIT_S,
    RETRY_WINDOW,
    NewWebhook,
    gives_up,
    retry_wait_s,
    signature,
)

pytestmark = pytest.mark.unit

AT = datetime(2026, 12, 5, 12, 0, 0, tzinfo=UTC)


def test_the_signature_is_hmac_sha256_of_t_dot_body():
    body = '{"id":"e-1.wh-1","text":"“café ☕”"}'.encode()
    header = signature("whsec_test", body, AT)
    t, v1 = (part.split("=", 1)[1] for part in header.split(","))
    assert header.startswith("t=")
    assert t == str(int(AT.timestamp()))
    expected = hmac.new(b"whsec_test", t.encode() + b"." + body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(v1, expected)


def test_another_secret_or_body_gives_another_signature():
    body = b'{"id":"e-1"}'
    assert signature("a", body, AT) != signature("b", body, AT)
    assert signature("a", body, AT) != signature("a", body + b" ", AT)


def test_backoff_doubles_from_the_first_wait_with_jitter_up_to_the_cap():
    rng = random.Random(7)
    for attempt in range(1, 12):
        ceiling = min(LONGEST_WAIT_S, FIRST_RETRY_S * 2 ** (attempt - 1))
        waits = [retry_wait_s(attempt, rng) for _ in range(50)]
        assert all(ceiling / 2 <= w <= ceiling for w in waits)
        assert len(set(waits)) > 1  # jittered
    assert max(retry_wait_s(30, rng) for _ in range(50)) <= LONGEST_WAIT_S


def test_a_delivery_is_given_up_past_the_retry_window():
    assert not gives_up(AT, AT + RETRY_WINDOW)
    assert gives_up(AT, AT + RETRY_WINDOW + timedelta(seconds=1))


@pytest.mark.parametrize(
    "url",
    [
        "http://hooks.example.com/x",
        "https://user:pw@hooks.example.com/x",
        "https://token@hooks.example.com/x",
        "ftp://hooks.example.com",
        "https:///nohost",
        "https://hooks.example.com/" + "a" * 500,
    ],
)
def test_an_endpoint_url_is_https_without_credentials_and_bounded(url):
    with pytest.raises(ValidationError):
        NewWebhook(url=url, events=["callback_task"])


def test_events_are_named_and_kept_once():
    assert NewWebhook(url="https://h.example/x", events=["store_alert", "store_alert"]).events == [
        "store_alert"
    ]
    with pytest.raises(ValidationError):
        NewWebhook(url="https://h.example/x", events=["everything"])  # type: ignore[list-item]
    with pytest.raises(ValidationError):
        NewWebhook(url="https://h.example/x", events=[])
