"""The SMS providers' worst cases: each fits what the invitation flow counts for a text,
and the End User Messaging client is built with the bounds that figure is made of."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from chalicelib import config
from chalicelib.config import Settings, botocore_worst_call_s
from chalicelib.notify import sms_sender

pytestmark = pytest.mark.unit


@pytest.fixture
def provider(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    config.settings.cache_clear()
    sms_sender._aws_client.cache_clear()
    yield monkeypatch
    monkeypatch.undo()
    config.settings.cache_clear()
    sms_sender._aws_client.cache_clear()


def test_the_aws_client_is_built_with_the_bounds_of_its_worst_case(provider) -> None:
    provider.setenv("STOREPULSE_SMS_PROVIDER", "aws")
    client_config = sms_sender._aws_client().meta.config

    worst = botocore_worst_call_s(
        client_config.retries["total_max_attempts"],
        client_config.connect_timeout,
        client_config.read_timeout,
    )

    assert client_config.retries["mode"] == "standard"
    assert worst == sms_sender.worst_send_s() == 9.0  # 2 x (1 s + 3 s) + 1 s of backoff


@pytest.mark.parametrize(("name", "worst_s"), [("twilio", 10.0), ("aws", 9.0), ("outbox", 0.0)])
def test_every_provider_s_text_fits_between_a_claim_and_its_void(
    provider, name: str, worst_s: float
) -> None:
    provider.setenv("STOREPULSE_SMS_PROVIDER", name)
    settings = Settings.from_environment()

    # The flow texts only while the text and the void that undoes the claim both fit: with
    # the defaults a claim answered at once leaves 25 s, and these need at most 10 + 12.
    assert sms_sender.worst_send_s() == worst_s <= 10.0
    assert worst_s + settings.dynamodb_worst_call_s < settings.invitation_deadline_s
