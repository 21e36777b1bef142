"""Outbound SMS: one function, the provider chosen by configuration.

"twilio" calls Twilio's REST API with the standard library (the twilio package would cost
cold-start time for one POST), "aws" sends through End User Messaging SMS
(pinpoint-sms-voice-v2), "outbox" only records the message locally.
"""

from __future__ import annotations

import base64
import http.client
import json
import re
import urllib.error
import urllib.parse
import urllib.request
import uuid
from functools import lru_cache
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from ..config import botocore_worst_call_s, secret, settings
from ..domain.phones import mask_phone
from ..errors import DependencyUnavailable
from ..observability import logger

TWILIO_API = "https://api.twilio.com/2010-04-01"
# Twilio's one request: its connect, then its read, each bounded by this (no retry: the
# caller's retry texts it again).
TWILIO_TIMEOUT_S = 5
# The End User Messaging client, bounded so that a text fits the 10 s the invitation flow
# counts for one (Twilio's worst case): 2 x (1 s + 3 s) + 1 s of backoff = 9 s. It was 2 s
# and 5 s with `max_attempts` 3, which counts retries: 4 attempts, 35 s with backoff.
# SendTextMessage answers in well under a second, so the read timeout only cuts a stalled
# connection. Two attempts in all (botocore's `total_max_attempts`): the retry absorbs a
# throttle or a 5xx, which sent nothing; one after a read timeout may text twice, as the
# caller's own retry would (the API takes no idempotency token).
AWS_CONNECT_TIMEOUT_S = 1.0
AWS_READ_TIMEOUT_S = 3.0
AWS_ATTEMPTS = 2
OUTBOX_LIMIT = 1000
# What the "outbox" provider recorded in this process, newest last (tests read it).
OUTBOX: list[dict[str, Any]] = []

_AWS_RETRYABLE = {"ThrottlingException", "InternalServerException"}
_AWS_REJECTED = {"ValidationException", "ConflictException"}
# Provider messages may quote a number ("The 'To' number +1... is not valid").
_PHONE_LIKE = re.compile(r"\+?\d{7,15}")


class SmsRejected(ValueError):
    """The provider refused this message (invalid or opted-out number, bad body): retrying
    the same request will not help. `code` is the provider's error code or reason."""

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def send_sms(to: str, body: str) -> str:
    """Send `body` to the E.164 number `to`; return the provider's message id.

    Raises DependencyUnavailable when the provider is busy or unreachable (retry later) and
    SmsRejected when it refuses the message.
    """
    provider = settings().sms_provider
    if provider == "twilio":
        message_id = _send_twilio(to, body)
    elif provider == "aws":
        message_id = _send_aws(to, body)
    else:
        message_id = _send_outbox(to, body)
    logger.info(
        "sms sent", extra={"provider": provider, "message_id": message_id, "to": mask_phone(to)}
    )
    return message_id


def _send_twilio(to: str, body: str) -> str:
    config = settings()
    sid = _required(config.twilio_account_sid, "twilio_account_sid")
    sender = _required(config.twilio_from_number, "twilio_from_number")
    token = secret(config.twilio_auth_token_secret_name)
    credentials = base64.b64encode(f"{sid}:{token}".encode()).decode("ascii")
    url = f"{TWILIO_API}/Accounts/{urllib.parse.quote(sid, safe='')}/Messages.json"
    # S310: a fixed https URL, not user input.
    request = urllib.request.Request(  # noqa: S310
        url,
        data=urllib.parse.urlencode({"To": to, "From": sender, "Body": body}).encode(),
        headers={
            "Authorization": f"Basic {credentials}",
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "application/json",
        },
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=TWILIO_TIMEOUT_S) as response:  # noqa: S310
            answer = json.loads(response.read())
    except urllib.error.HTTPError as error:
        if error.code == 429 or error.code >= 500:
            raise DependencyUnavailable(
                "the SMS provider is busy or unavailable; retry later",
                retry_after=config.retry_after_s,
            ) from None
        code, message = _twilio_error(error)
        raise SmsRejected(message, code) from None
    except (urllib.error.URLError, OSError, http.client.HTTPException) as error:
        # Timeouts, refused connections, TLS failures, truncated answers.
        raise DependencyUnavailable(
            "the SMS provider is unreachable; retry later", retry_after=config.retry_after_s
        ) from error
    return str(answer["sid"])


def _twilio_error(error: urllib.error.HTTPError) -> tuple[str | None, str]:
    try:
        answer = json.loads(error.read())
    except (ValueError, OSError):
        answer = {}
    if not isinstance(answer, dict):
        answer = {}
    code = answer.get("code")
    message = str(answer.get("message") or f"the SMS provider refused the message ({error.code})")
    return (None if code is None else str(code)), _without_phones(message)


@lru_cache(maxsize=1)
def _aws_client() -> Any:
    """One client per Lambda container, created on first use. `Any`: no stubs for this
    service are installed."""
    import boto3
    from botocore.config import Config

    return boto3.client(
        "pinpoint-sms-voice-v2",
        region_name=settings().region,
        config=Config(
            connect_timeout=AWS_CONNECT_TIMEOUT_S,
            read_timeout=AWS_READ_TIMEOUT_S,
            retries={"mode": "standard", "total_max_attempts": AWS_ATTEMPTS},
        ),
    )


def worst_send_s() -> float:
    """The longest `send_sms` may take with the configured provider, in seconds (callers
    working to a deadline start a text only while this fits)."""
    provider = settings().sms_provider
    if provider == "twilio":
        return 2.0 * TWILIO_TIMEOUT_S
    if provider == "aws":
        return botocore_worst_call_s(AWS_ATTEMPTS, AWS_CONNECT_TIMEOUT_S, AWS_READ_TIMEOUT_S)
    return 0.0  # the local outbox: a line appended to a file


def _send_aws(to: str, body: str) -> str:
    config = settings()
    request: dict[str, Any] = {
        "DestinationPhoneNumber": to,
        "MessageBody": body,
        "MessageType": "TRANSACTIONAL",
    }
    # Without an origination identity AWS picks one of the account's numbers.
    if config.aws_sms_origination_identity:
        request["OriginationIdentity"] = config.aws_sms_origination_identity
    if config.aws_sms_configuration_set:
        request["ConfigurationSetName"] = config.aws_sms_configuration_set
    try:
        answer = _aws_client().send_text_message(**request)
    except ClientError as error:
        details = error.response.get("Error", {})
        code = str(details.get("Code", ""))
        status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))
        if code in _AWS_RETRYABLE or status >= 500:
            raise DependencyUnavailable(
                "the SMS provider is busy or unavailable; retry later",
                retry_after=config.retry_after_s,
            ) from None
        if code in _AWS_REJECTED:
            # e.g. Reason DESTINATION_PHONE_NUMBER_OPTED_OUT; ResourceId may be the number.
            reason = error.response.get("Reason") or code
            message = str(details.get("Message") or code)
            raise SmsRejected(_without_phones(message), str(reason)) from None
        raise
    except BotoCoreError as error:  # connection refused, timeouts
        raise DependencyUnavailable(
            "the SMS provider is unreachable; retry later", retry_after=config.retry_after_s
        ) from error
    return str(answer["MessageId"])


def _send_outbox(to: str, body: str) -> str:
    message_id = f"outbox-{uuid.uuid4().hex}"
    entry = {
        "topic": "sms",
        "subject": None,
        "message": body,
        "attributes": {"to": to, "message_id": message_id},
    }
    path = settings().notifications_log
    if path is not None:
        log = Path(path)
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("a", encoding="utf-8") as file:
            file.write(json.dumps(entry, ensure_ascii=False) + "\n")
    OUTBOX.append(entry)
    del OUTBOX[:-OUTBOX_LIMIT]
    return message_id


def _required(value: str | None, field: str) -> str:
    if not value:
        raise RuntimeError(f"SMS provider misconfigured: set STOREPULSE_{field.upper()}")
    return value


def _without_phones(message: str) -> str:
    return _PHONE_LIKE.sub(lambda match: mask_phone(match.group()), message)
