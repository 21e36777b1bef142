"""Outbound SMS providers and Twilio webhook signatures.

Signatures are checked against Twilio's own RequestValidator (the `twilio` package, a test
dependency only); the Twilio API is a mocked urlopen, AWS End User Messaging SMS a botocore
Stubber (moto has no pinpoint-sms-voice-v2).
"""

from __future__ import annotations

import base64
import io
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import EndpointConnectionError
from botocore.stub import Stubber
from twilio.request_validator import RequestValidator

from chalicelib import config
from chalicelib.errors import DependencyUnavailable
from chalicelib.notify import sms_sender
from chalicelib.notify.twilio_webhook import is_valid_twilio_signature, twilio_signature, twiml
from chalicelib.observability import logger

pytestmark = pytest.mark.unit

TOKEN = "12345678901234567890123456789012"
SID = "AC" + "0" * 32
FROM = "+15005550006"
TO = "+14155550123"
URL = "https://abc123.execute-api.us-east-1.amazonaws.com/api/sms/inbound"

WEBHOOKS = [
    (URL, {"From": TO, "To": FROM, "Body": "5", "MessageSid": "SM" + "1" * 32}),
    (URL, {"From": TO, "Body": "满意 4分"}),
    (URL, {"From": TO, "Body": "⭐⭐⭐"}),
    (URL, {"From": TO, "Body": ""}),
    (URL, {}),
    # Names sharing a prefix: sorted by name, then concatenated.
    (URL, {"Body": "a", "BodyA": "b", "Bod": "c", "NumMedia": "0", "NumSegments": "1"}),
    (URL + "?store=store-a&x=%20y", {"Body": "ok & <fine>", "From": TO}),
    ("https://example.com:8443/sms", {"Body": "  spaces \n newline "}),
]


@pytest.fixture
def sms_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    config.settings.cache_clear()
    sms_sender._aws_client.cache_clear()
    sms_sender.OUTBOX.clear()
    yield monkeypatch
    monkeypatch.undo()
    config.settings.cache_clear()
    sms_sender._aws_client.cache_clear()
    sms_sender.OUTBOX.clear()


def use(monkeypatch: pytest.MonkeyPatch, **values: str) -> None:
    for name, value in values.items():
        monkeypatch.setenv(f"STOREPULSE_{name.upper()}", value)
    config.settings.cache_clear()


# --- Twilio webhook signatures -----------------------------------------------------------


@pytest.mark.parametrize(("url", "params"), WEBHOOKS)
def test_signature_equals_twilio_request_validator(url: str, params: dict[str, str]) -> None:
    assert twilio_signature(url, params, TOKEN) == RequestValidator(TOKEN).compute_signature(
        url, params
    )


@pytest.mark.parametrize(("url", "params"), WEBHOOKS)
def test_validation_agrees_with_twilio(url: str, params: dict[str, str]) -> None:
    signature = RequestValidator(TOKEN).compute_signature(url, params)

    assert is_valid_twilio_signature(url, params, signature, TOKEN)
    assert RequestValidator(TOKEN).validate(url, params, signature)


def test_unicode_token_matches_twilio() -> None:
    token = "tökén-ß"
    params = {"Body": "满意 4分"}

    assert twilio_signature(URL, params, token) == RequestValidator(token).compute_signature(
        URL, params
    )


@pytest.mark.parametrize(
    ("url", "params", "token"),
    [
        (URL, {"From": TO, "Body": "1"}, TOKEN),  # tampered body
        (URL, {"From": TO, "Body": "5", "Extra": ""}, TOKEN),  # added parameter
        (URL, {"From": "+14155550124", "Body": "5"}, TOKEN),  # tampered sender
        (URL + "?x=1", {"From": TO, "Body": "5"}, TOKEN),  # tampered URL
        (URL.replace("https", "http"), {"From": TO, "Body": "5"}, TOKEN),
        (URL, {"From": TO, "Body": "5"}, TOKEN[:-1] + "3"),  # another account's token
    ],
)
def test_tampered_request_fails(url: str, params: dict[str, str], token: str) -> None:
    signature = RequestValidator(TOKEN).compute_signature(URL, {"From": TO, "Body": "5"})

    assert not is_valid_twilio_signature(url, params, signature, token)
    assert not RequestValidator(token).validate(url, params, signature)


@pytest.mark.parametrize("signature", [None, "", "not-base64", "é" * 28])
def test_missing_or_garbage_signature_fails(signature: str | None) -> None:
    assert not is_valid_twilio_signature(URL, {"Body": "5"}, signature, TOKEN)


# --- TwiML -------------------------------------------------------------------------------


def test_twiml_escapes_the_message() -> None:
    answer = twiml('Thanks <b> & 满意 "quoted"')

    assert answer.endswith(
        '<Response><Message>Thanks &lt;b&gt; &amp; 满意 "quoted"</Message></Response>'
    )
    assert answer.startswith("<?xml")


def test_twiml_without_message_is_an_empty_response() -> None:
    assert twiml(None).endswith("<Response/>")


def test_twiml_is_well_formed() -> None:
    from xml.etree import ElementTree

    root = ElementTree.fromstring(twiml("a < b && c > d ]]>"))  # noqa: S314 - our own output

    assert root.tag == "Response"
    assert [child.text for child in root] == ["a < b && c > d ]]>"]


# --- outbox ------------------------------------------------------------------------------


def test_outbox_appends_a_json_line(sms_settings: pytest.MonkeyPatch, tmp_path: Path) -> None:
    log = tmp_path / "nested" / "notifications.jsonl"
    use(sms_settings, sms_provider="outbox", notifications_log=str(log))

    first = sms_sender.send_sms(TO, "How was your visit? Reply 1-5")
    second = sms_sender.send_sms("+447911123456", "满意 ⭐")

    lines = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    assert lines == [
        {
            "topic": "sms",
            "subject": None,
            "message": "How was your visit? Reply 1-5",
            "attributes": {"to": TO, "message_id": first},
        },
        {
            "topic": "sms",
            "subject": None,
            "message": "满意 ⭐",
            "attributes": {"to": "+447911123456", "message_id": second},
        },
    ]
    assert first.startswith("outbox-")
    assert first != second
    assert lines == sms_sender.OUTBOX


def test_outbox_without_a_log_keeps_the_last_messages(sms_settings: pytest.MonkeyPatch) -> None:
    sms_settings.delenv("STOREPULSE_NOTIFICATIONS_LOG", raising=False)
    use(sms_settings, sms_provider="outbox")

    ids = [sms_sender.send_sms(TO, f"message {n}") for n in range(sms_sender.OUTBOX_LIMIT + 5)]

    assert len(sms_sender.OUTBOX) == sms_sender.OUTBOX_LIMIT
    assert sms_sender.OUTBOX[-1]["attributes"] == {"to": TO, "message_id": ids[-1]}
    assert sms_sender.OUTBOX[0]["message"] == "message 5"


def test_send_logs_only_a_masked_number(sms_settings: pytest.MonkeyPatch) -> None:
    use(sms_settings, sms_provider="outbox")
    buffer = io.StringIO()
    sms_settings.setattr(logger.registered_handler, "stream", buffer)

    message_id = sms_sender.send_sms(TO, "hello")

    [line] = [json.loads(line) for line in buffer.getvalue().splitlines()]
    assert line["to"] == "+1******0123"
    assert line["message_id"] == message_id
    assert TO not in buffer.getvalue()


# --- Twilio REST API ---------------------------------------------------------------------


class FakeResponse(io.BytesIO):
    status = 201


@dataclass
class FakeTwilio:
    """Stands in for urlopen: records each request, answers with the next queued answer
    (a JSON body, or an exception to raise)."""

    requests: list[tuple[urllib.request.Request, float]] = field(default_factory=list)
    answers: list[Any] = field(default_factory=list)

    def urlopen(self, request: urllib.request.Request, timeout: float) -> FakeResponse:
        self.requests.append((request, timeout))
        answer = self.answers.pop(0) if self.answers else {"sid": "SM" + "a" * 32}
        if isinstance(answer, BaseException):
            raise answer
        return FakeResponse(json.dumps(answer).encode())


@pytest.fixture
def twilio(sms_settings: pytest.MonkeyPatch) -> FakeTwilio:
    use(
        sms_settings,
        sms_provider="twilio",
        twilio_account_sid=SID,
        twilio_from_number=FROM,
        secret_storepulse_twilio_auth_token=TOKEN,
    )
    fake = FakeTwilio()
    sms_settings.setattr(urllib.request, "urlopen", fake.urlopen)
    return fake


def http_error(status: int, answer: dict[str, Any] | str) -> urllib.error.HTTPError:
    body = answer if isinstance(answer, str) else json.dumps(answer)
    return urllib.error.HTTPError(
        "https://api.twilio.com", status, "error", Message(), io.BytesIO(body.encode())
    )


def test_twilio_posts_the_form_with_basic_auth(twilio: FakeTwilio) -> None:
    message_id = sms_sender.send_sms(TO, "满意? Reply 1-5 & thanks")

    assert message_id == "SM" + "a" * 32
    [(request, timeout)] = twilio.requests
    assert request.full_url == f"https://api.twilio.com/2010-04-01/Accounts/{SID}/Messages.json"
    assert request.get_method() == "POST"
    assert timeout == 5
    assert urllib.parse.parse_qs(request.data.decode()) == {
        "To": [TO],
        "From": [FROM],
        "Body": ["满意? Reply 1-5 & thanks"],
    }
    expected = base64.b64encode(f"{SID}:{TOKEN}".encode()).decode()
    assert request.get_header("Authorization") == f"Basic {expected}"
    assert request.get_header("Content-type") == "application/x-www-form-urlencoded"


@pytest.mark.parametrize("status", [429, 500, 503])
def test_twilio_busy_is_dependency_unavailable(twilio: FakeTwilio, status: int) -> None:
    twilio.answers[:] = [http_error(status, {"code": 20429, "message": "Too Many Requests"})]

    with pytest.raises(DependencyUnavailable) as raised:
        sms_sender.send_sms(TO, "hi")

    assert raised.value.retry_after == 5


@pytest.mark.parametrize(
    "error", [urllib.error.URLError("connection refused"), TimeoutError("timed out")]
)
def test_twilio_unreachable_is_dependency_unavailable(twilio: FakeTwilio, error: Exception) -> None:
    twilio.answers[:] = [error]

    with pytest.raises(DependencyUnavailable):
        sms_sender.send_sms(TO, "hi")


def test_twilio_rejection_is_sms_rejected_without_the_number(twilio: FakeTwilio) -> None:
    twilio.answers[:] = [
        http_error(
            400,
            {
                "code": 21211,
                "message": f"The 'To' number {TO} is not a valid phone number.",
                "status": 400,
            },
        )
    ]

    with pytest.raises(sms_sender.SmsRejected) as raised:
        sms_sender.send_sms(TO, "hi")

    assert raised.value.code == "21211"
    assert "is not a valid phone number" in str(raised.value)
    assert TO not in str(raised.value)
    assert "5550123" not in str(raised.value)
    assert raised.value.__cause__ is None
    assert raised.value.__suppress_context__


def test_twilio_rejection_without_json(twilio: FakeTwilio) -> None:
    twilio.answers[:] = [http_error(401, "<html>Unauthorized</html>")]

    with pytest.raises(sms_sender.SmsRejected, match="401"):
        sms_sender.send_sms(TO, "hi")


def test_twilio_without_account_sid_is_a_configuration_error(
    twilio: FakeTwilio, sms_settings: pytest.MonkeyPatch
) -> None:
    sms_settings.delenv("STOREPULSE_TWILIO_ACCOUNT_SID")
    config.settings.cache_clear()

    with pytest.raises(RuntimeError, match="STOREPULSE_TWILIO_ACCOUNT_SID"):
        sms_sender.send_sms(TO, "hi")
    assert twilio.requests == []


# --- AWS End User Messaging SMS ----------------------------------------------------------


@pytest.fixture
def aws(sms_settings: pytest.MonkeyPatch) -> Iterator[Stubber]:
    use(
        sms_settings,
        sms_provider="aws",
        region="eu-west-1",
        aws_sms_origination_identity="pool-0123456789abcdef",
    )
    client = sms_sender._aws_client()
    with Stubber(client) as stubber:
        yield stubber
        stubber.assert_no_pending_responses()


def aws_request(**extra: str) -> dict[str, str]:
    return {
        "DestinationPhoneNumber": TO,
        "MessageBody": "hi",
        "OriginationIdentity": "pool-0123456789abcdef",
        "MessageType": "TRANSACTIONAL",
    } | extra


def test_aws_sends_a_transactional_message(aws: Stubber) -> None:
    aws.add_response("send_text_message", {"MessageId": "m-123"}, aws_request())

    assert sms_sender.send_sms(TO, "hi") == "m-123"
    assert sms_sender._aws_client().meta.region_name == "eu-west-1"
    assert sms_sender._aws_client() is sms_sender._aws_client()


def test_aws_passes_the_configuration_set_when_set(
    aws: Stubber, sms_settings: pytest.MonkeyPatch
) -> None:
    use(sms_settings, aws_sms_configuration_set="storepulse-sms")
    aws.add_response(
        "send_text_message",
        {"MessageId": "m-456"},
        aws_request(ConfigurationSetName="storepulse-sms"),
    )

    assert sms_sender.send_sms(TO, "hi") == "m-456"


@pytest.mark.parametrize(
    ("code", "status"),
    [("ThrottlingException", 400), ("InternalServerException", 500), ("Unknown", 503)],
)
def test_aws_busy_is_dependency_unavailable(aws: Stubber, code: str, status: int) -> None:
    aws.add_client_error("send_text_message", code, "busy", status, expected_params=aws_request())

    with pytest.raises(DependencyUnavailable):
        sms_sender.send_sms(TO, "hi")


def test_aws_unreachable_is_dependency_unavailable(aws: Stubber) -> None:
    def refuse(**_: Any) -> None:
        raise EndpointConnectionError(endpoint_url="https://sms-voice.eu-west-1.amazonaws.com")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sms_sender._aws_client(), "send_text_message", refuse)

        with pytest.raises(DependencyUnavailable):
            sms_sender.send_sms(TO, "hi")


def test_aws_opted_out_is_sms_rejected(aws: Stubber) -> None:
    aws.add_client_error(
        "send_text_message",
        "ConflictException",
        f"Conflict Occurred - Reason=DESTINATION_PHONE_NUMBER_OPTED_OUT ResourceId={TO}",
        400,
        modeled_fields={
            "Reason": "DESTINATION_PHONE_NUMBER_OPTED_OUT",
            "ResourceType": "opt-out-list",
            "ResourceId": TO,
        },
        expected_params=aws_request(),
    )

    with pytest.raises(sms_sender.SmsRejected) as raised:
        sms_sender.send_sms(TO, "hi")

    assert raised.value.code == "DESTINATION_PHONE_NUMBER_OPTED_OUT"
    assert TO not in str(raised.value)


def test_aws_validation_error_is_sms_rejected(aws: Stubber) -> None:
    aws.add_client_error(
        "send_text_message",
        "ValidationException",
        "invalid destination",
        400,
        expected_params=aws_request(),
    )

    with pytest.raises(sms_sender.SmsRejected, match="invalid destination"):
        sms_sender.send_sms(TO, "hi")


def test_aws_access_denied_is_not_hidden(aws: Stubber) -> None:
    from botocore.exceptions import ClientError

    aws.add_client_error(
        "send_text_message", "AccessDeniedException", "no", 403, expected_params=aws_request()
    )

    with pytest.raises(ClientError):
        sms_sender.send_sms(TO, "hi")
