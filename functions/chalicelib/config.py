"""Settings read once from the environment.

A missing or malformed variable fails at import with its name, not at the first request.
In AWS the variables come from the packaged template (`infra/resources.yaml`'s Globals, and
`functions/.chalice/config.json`); locally from `devtools/local_stack.py`, in tests from
`tests/conftest.py`. The README's configuration table lists them all (a test keeps it true).
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

ENV_PREFIX = "STOREPULSE_"


class Settings(BaseModel):
    """Each field is read from `STOREPULSE_<FIELD NAME>` (pydantic-settings would do the same
    at 50 ms of cold start)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    table_name: str
    region: str = "us-east-1"
    # Set only locally (DynamoDB Local); in AWS the regional endpoint is used.
    dynamodb_endpoint: str | None = None

    # Where secrets live: "secretsmanager" in AWS (read through Powertools Parameters and
    # cached), "env" locally and in tests (STOREPULSE_SECRET_<NAME> variables).
    secrets_backend: Literal["secretsmanager", "env"] = "secretsmanager"
    token_secret_name: str = "storepulse/token-signing-key"  # noqa: S105 - a name, not a secret
    secrets_cache_s: int = Field(default=300, ge=0)

    kiosk_token_ttl_days: int = Field(default=365, ge=1)
    staff_token_ttl_hours: int = Field(default=12, ge=1)
    pairing_code_ttl_s: int = Field(default=900, ge=60, le=86_400)
    # Guessing pairing codes: wrong tries per client, and from everyone together, per window
    # (docs/security.md gives the odds these leave).
    pairing_window_s: int = Field(default=900, ge=60)
    pairing_tries_per_client: int = Field(default=5, ge=1)
    pairing_tries_per_window: int = Field(default=50, ge=1)
    # How long a revocation may take to reach a warm Lambda: ingest checks a cached list.
    revocation_cache_s: int = Field(default=60, ge=0)
    store_cache_s: int = Field(default=300, ge=0)

    max_body_bytes: int = Field(default=262_144, ge=1024)
    retry_after_s: int = Field(default=5, ge=1)
    cors_origin: str = "*"

    # SMS. The provider is configuration: "twilio", "aws" (End User Messaging SMS) or
    # "outbox" (local: every message is appended to `notifications_log`, nothing is sent).
    sms_provider: Literal["twilio", "aws", "outbox"] = "outbox"
    # Where staff notifications go: SNS topics in AWS, the local outbox (a JSON-lines file).
    notify_backend: Literal["sns", "outbox"] = "outbox"
    alerts_topic: str = "store-alerts"  # the topic's ARN in AWS
    callbacks_topic: str = "callbacks"  # the topic's ARN in AWS
    staff_url: str = "http://127.0.0.1:8001/staff/"  # links in notifications
    callback_deadline_hours: float = Field(default=24, gt=0)
    # One alert per incident: after a store alert, no other alert for that store this long.
    alert_cooldown_hours: float = Field(default=24, gt=0)
    notifications_log: str | None = None
    twilio_account_sid: str | None = None
    twilio_from_number: str | None = None
    twilio_auth_token_secret_name: str = "storepulse/twilio-auth-token"  # noqa: S105 - a name
    # The public URL Twilio calls; signatures are checked against it, never a URL rebuilt
    # from the request (API Gateway changes host, stage and scheme).
    twilio_webhook_url: str | None = None
    aws_sms_origination_identity: str | None = None
    aws_sms_configuration_set: str | None = None
    phone_hmac_secret_name: str = "storepulse/phone-hmac-key"  # noqa: S105 - a name
    survey_cooldown_days: int = Field(default=30, ge=0)
    invitation_ttl_hours: int = Field(default=72, ge=1)
    sms_window_start_hour: int = Field(default=8, ge=0, le=23)
    sms_window_end_hour: int = Field(default=20, ge=1, le=24)
    # How long a phone number may be kept (conversations, callback contacts): DynamoDB TTL.
    phone_retention_days: int = Field(default=30, ge=1)
    # How long after a callback task is resolved its contact, name, comments and notes are
    # kept (never beyond phone_retention_days): DynamoDB TTL.
    resolved_contact_retention_days: int = Field(default=7, ge=0)
    # Powertools Tracer (X-Ray SDK) costs ~100 ms of cold start; on where traces are read.
    tracing: bool = True

    @classmethod
    def from_environment(cls) -> Settings:
        values = {
            name: os.environ[ENV_PREFIX + name.upper()]
            for name in cls.model_fields
            if ENV_PREFIX + name.upper() in os.environ
        }
        if os.environ.get("POWERTOOLS_TRACE_DISABLED", "").lower() in ("1", "true"):
            values.setdefault("tracing", "false")
        try:
            return cls.model_validate(values)
        except ValidationError as error:
            problems = "; ".join(
                f"{ENV_PREFIX}{'.'.join(map(str, e['loc'])).upper()}: {e['msg']}"
                for e in error.errors()
            )
            raise RuntimeError(f"invalid configuration: {problems}") from None


@lru_cache(maxsize=1)
def settings() -> Settings:
    """The settings, read once; a missing or invalid variable raises with its name."""
    return Settings.from_environment()


def secret(name: str) -> str:
    """A secret by name: Secrets Manager through Powertools Parameters (cached), or the env."""
    config = settings()
    if config.secrets_backend == "env":
        variable = _secret_variable(name)
        try:
            return os.environ[variable]
        except KeyError:
            raise RuntimeError(f"secret {name!r} is not set: define {variable}") from None
    from aws_lambda_powertools.utilities import parameters

    value = parameters.get_secret(name, max_age=config.secrets_cache_s)
    return value if isinstance(value, str) else value.decode()


@lru_cache(maxsize=16)
def _secret_variable(name: str) -> str:
    return "STOREPULSE_SECRET_" + "".join(c if c.isalnum() else "_" for c in name).upper()
