"""Shared fixtures: environment, storage backends (moto or DynamoDB Local), API client; each
test marked by its layer's folder."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

# Settings are read once at import of the app: the test environment is set first.
TEST_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "STOREPULSE_TABLE_NAME": "storepulse-test",
    "STOREPULSE_SECRETS_BACKEND": "env",
    "STOREPULSE_SECRET_STOREPULSE_TOKEN_SIGNING_KEY": "test-signing-key-0123456789abcdef0123456789",
    "STOREPULSE_SECRET_STOREPULSE_PHONE_HMAC_KEY": "test-phone-hmac-key-0123456789abcdef",
    "STOREPULSE_SECRET_STOREPULSE_TWILIO_AUTH_TOKEN": "test-twilio-auth-token-0123456789",
    "STOREPULSE_TWILIO_WEBHOOK_URL": "https://api.example.com/api/v1/sms/twilio",
    "STOREPULSE_SMS_PROVIDER": "outbox",
    # The HS256 staff tokens most tests sign in with; Cognito ID tokens: the `cognito` fixture.
    "STOREPULSE_ACCEPT_LOCAL_STAFF_TOKENS": "true",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_NAMESPACE": "storepulse",
    "POWERTOOLS_SERVICE_NAME": "storepulse",
}
os.environ.update(TEST_ENV)
os.environ.pop("STOREPULSE_DYNAMODB_ENDPOINT", None)

from chalicelib import config, id_tokens  # noqa: E402
from chalicelib.auth import issue_kiosk_token, issue_staff_token  # noqa: E402
from chalicelib.domain.survey import DEFAULT_SURVEY, Store  # noqa: E402
from chalicelib.jobs import aggregate as aggregate_job  # noqa: E402
from chalicelib.storage import dynamodb, integrations, people, stores  # noqa: E402
from devtools import dynamodb_local  # noqa: E402
from tests.cognito import LocalPool  # noqa: E402

TESTS = Path(__file__).parent
LAYERS = ("unit", "integration", "infra", "browser")


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by the markers set here
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each test by its folder, so `-m unit` runs tests/unit and nothing else; a test
    marked for another layer, or a unit test on DynamoDB Local (Java), is a collection error."""
    for item in items:
        layer = item.path.relative_to(TESTS).parts[0]
        if layer not in LAYERS:
            raise pytest.UsageError(f"{item.nodeid}: tests live in one of tests/{LAYERS}")
        others = {mark.name for mark in item.iter_markers()} & set(LAYERS) - {layer}
        if others:
            raise pytest.UsageError(f"{item.nodeid} is in tests/{layer} but marked {others}")
        if layer == "unit" and "dynamodb_local_server" in getattr(item, "fixturenames", ()):
            raise pytest.UsageError(f"{item.nodeid}: a unit test runs on moto, not DynamoDB Local")
        item.add_marker(layer)


def reset_caches() -> None:
    config.settings.cache_clear()
    dynamodb.client.cache_clear()
    stores.clear_caches()
    people.clear_caches()
    integrations.clear_caches()
    id_tokens.clear_caches()
    aggregate_job.clear_caches()


@pytest.fixture(scope="session")
def dynamodb_local_server() -> Iterator[str]:
    server = dynamodb_local.start()
    yield server.endpoint
    server.stop()


@pytest.fixture(params=["moto", "dynamodb_local"])
def storage(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh table on moto or on the real DynamoDB Local engine; yields the backend name."""
    table = f"storepulse-{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("STOREPULSE_TABLE_NAME", table)
    if request.param == "moto":
        from moto import mock_aws

        with mock_aws():
            reset_caches()
            dynamodb_local.create_table(dynamodb_local.client(None), table)
            yield "moto"
    else:
        endpoint = request.getfixturevalue("dynamodb_local_server")
        monkeypatch.setenv("STOREPULSE_DYNAMODB_ENDPOINT", endpoint)
        reset_caches()
        dynamodb_local.create_table(dynamodb_local.client(endpoint), table)
        yield "dynamodb_local"
        dynamodb_local.drop_table(dynamodb_local.client(endpoint), table)
    reset_caches()


@pytest.fixture
def cognito(monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalPool]:
    """A fresh Cognito user pool on moto's server, which the app is configured to trust."""
    pool = LocalPool.create()
    for name, value in pool.env.items():
        monkeypatch.setenv(name, value)
    reset_caches()
    yield pool
    reset_caches()


def make_store(store_id: str = "store-a", **overrides: Any) -> Store:
    values: dict[str, Any] = {
        "store_id": store_id,
        "name": f"Store {store_id}",
        "timezone": "America/New_York",
        "country": "US",
        "survey": DEFAULT_SURVEY,
        "sms_window": (0, 24),  # tests send at any hour; quiet hours are tested explicitly
    }
    return Store(**(values | overrides))


@pytest.fixture
def store(storage: str) -> Store:
    created = make_store("store-a")
    stores.put_store(created)
    stores.put_store(make_store("store-b"))
    return created


@pytest.fixture
def api(storage: str) -> Iterator[Any]:
    from chalice.test import Client

    from app import app
    from tests.contract import checked

    with Client(app) as client:
        checked(client.http)  # every answer is held to the OpenAPI document (tests/contract.py)
        yield client


def now() -> datetime:
    """Now, to the millisecond (the precision ratings are stored with)."""
    moment = datetime.now(UTC)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}


@pytest.fixture
def staff_headers(store: Store) -> dict[str, str]:
    return bearer(issue_staff_token("alice", "staff", [store.store_id], now()))


@pytest.fixture
def kiosk_headers(store: Store) -> dict[str, str]:
    return bearer(issue_kiosk_token("k-test", store.store_id, now()))


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds")


def kiosk_rating(**overrides: Any) -> dict[str, Any]:
    """A valid kiosk rating as the kiosk sends it; override any field."""
    rating: dict[str, Any] = {
        "rating_id": str(uuid.uuid4()),
        "score": 4,
        "tapped_at": iso(now() - timedelta(seconds=30)),
        "reasons": [],
        "comment": None,
        "locale": "en",
        "callback": None,
    }
    return rating | overrides


def rating_batch(*ratings: dict[str, Any], sent_at: datetime | None = None) -> dict[str, Any]:
    return {"sent_at": iso(sent_at or now()), "ratings": list(ratings) or [kiosk_rating()]}
