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

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

ENV_PREFIX = "STOREPULSE_"
# What sets one DynamoDB call's worst case, named in the error when it does not fit.
_CALL_SETTINGS = (
    "lower STOREPULSE_DYNAMODB_CONNECT_TIMEOUT_S, STOREPULSE_DYNAMODB_READ_TIMEOUT_S or "
    "STOREPULSE_DYNAMODB_ATTEMPTS, or raise the deadline"
)


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
    # The link survey (no token): requests per device id, per source address and per store,
    # per window (docs/security.md, "The link survey").
    link_window_s: int = Field(default=3600, ge=60)
    link_requests_per_device: int = Field(default=10, ge=1)
    link_requests_per_client: int = Field(default=60, ge=1)
    link_requests_per_store: int = Field(default=2000, ge=1)
    # How long a revocation may take to reach a warm Lambda: ingest checks a cached list.
    revocation_cache_s: int = Field(default=60, ge=0)
    store_cache_s: int = Field(default=300, ge=0)

    max_body_bytes: int = Field(default=262_144, ge=1024)
    retry_after_s: int = Field(default=5, ge=1)
    # Every DynamoDB call is bounded (README, "Timeouts and request deadlines", has the
    # arithmetic): botocore's standard retry mode with this many attempts in all (the first
    # one included: botocore's `total_max_attempts`, not its `max_attempts`, which counts
    # retries), each attempt bounded by the connect and read timeouts.
    dynamodb_connect_timeout_s: float = Field(default=1.0, gt=0, le=10)
    dynamodb_read_timeout_s: float = Field(default=2.0, gt=0, le=10)
    dynamodb_attempts: int = Field(default=3, ge=1, le=5)
    # A kiosk's batch is worked on for at most this long, counted from the request's start:
    # no write starts unless one call's worst case still fits before it, and the ratings not
    # written answer `retry`. Well inside API Gateway's 29 s (and the Lambda's timeout).
    ingest_deadline_s: float = Field(default=20.0, gt=0, le=25)
    # An invitation to text now is worked on for at most this long, from the handler's start
    # (flows/sms_survey.py): its claim's write starts only while that write and the void that
    # undoes it both fit (2 worst calls), the text only while the text and a void fit. With
    # a cold start the answer must be out inside API Gateway's 29 s and the Lambda's timeout.
    invitation_deadline_s: float = Field(default=25.0, gt=0, le=27)
    cors_origin: str = "*"

    # Identity: the Cognito user pool whose ID tokens staff, managers and admins sign in
    # with (RS256, checked against the pool's JWKS). Unset: no Cognito sign-in.
    cognito_user_pool_id: str | None = None
    cognito_client_id: str | None = None
    # Set only locally (moto in server mode); in AWS the regional endpoint is used.
    cognito_endpoint: str | None = None
    jwks_cache_s: int = Field(default=3600, ge=60)
    # The HS256 staff tokens (`issue_staff_token`): for tests and the local stack only.
    accept_local_staff_tokens: bool = False
    # How an invited person learns their temporary password: Cognito's own e-mail in AWS, or
    # the outbox (`notifications_log`) locally, where no e-mail is sent.
    staff_invite_delivery: Literal["cognito", "outbox"] = "cognito"
    # Set only locally (moto in server mode): where SNS subscriptions are managed.
    sns_endpoint: str | None = None

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

    @property
    def dynamodb_worst_call_s(self) -> float:
        """The longest one DynamoDB call can take: every attempt times out connecting and
        then reading, and botocore waits its longest backoff between attempts (throttling:
        up to 1 s, 2 s, 4 s ..., capped at 20 s; other errors far less)."""
        return botocore_worst_call_s(
            self.dynamodb_attempts, self.dynamodb_connect_timeout_s, self.dynamodb_read_timeout_s
        )

    @model_validator(mode="after")
    def _calls_fit_the_deadlines(self) -> Settings:
        worst = self.dynamodb_worst_call_s
        # Otherwise no ingest write could ever start: every batch would answer 503.
        if worst >= self.ingest_deadline_s:
            raise ValueError(
                f"one DynamoDB call may take {worst:g} s, which does not fit "
                f"STOREPULSE_INGEST_DEADLINE_S ({self.ingest_deadline_s:g} s): {_CALL_SETTINGS}"
            )
        # Otherwise no invitation claim could ever be written: every invitation to text
        # now would answer 503.
        if 2 * worst >= self.invitation_deadline_s:
            raise ValueError(
                f"a claim's write and its void may take 2 x {worst:g} s, which does not fit "
                f"STOREPULSE_INVITATION_DEADLINE_S ({self.invitation_deadline_s:g} s): "
                f"{_CALL_SETTINGS}"
            )
        return self

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
                # A rule across settings (the deadline and the timeouts) has no one name.
                f"{ENV_PREFIX}{'.'.join(map(str, e['loc'])).upper()}: {e['msg']}"
                if e["loc"]
                else e["msg"]
                for e in error.errors()
            )
            raise RuntimeError(f"invalid configuration: {problems}") from None


def botocore_worst_call_s(attempts: int, connect_timeout_s: float, read_timeout_s: float) -> float:
    """The longest one call of a boto3 client in botocore's standard retry mode may take:
    every attempt times out connecting and then reading, and the longest backoff (a
    throttle's: up to 1 s, 2 s, 4 s ..., capped at 20 s) is waited between attempts."""
    backoff = sum(min(2.0**retry, 20.0) for retry in range(attempts - 1))
    return attempts * (connect_timeout_s + read_timeout_s) + backoff


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
