"""POST /v1/onboarding through `chalice.test.Client` on moto: an admin's only, each row's
result in the document's shape, the stores written through the store flow, the limits of a
request. Invitations go to a stand-in here (Cognito: tests/integration/test_onboarding.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from chalicelib.auth import issue_staff_token
from chalicelib.domain.onboarding import COLUMNS
from chalicelib.storage import stores
from devtools import dynamodb_local
from tests.conftest import bearer, now, reset_caches

pytestmark = pytest.mark.unit

HEADER = ",".join(COLUMNS)
ADMIN = bearer(issue_staff_token("root@example.com", "admin", [], now()))


def row(store_id: str, **cells: str) -> str:
    values = {
        "store_id": store_id,
        "name": f"Store {store_id}",
        "timezone": "America/Chicago",
        "country": "US",
        "region": "central",
        "opening_hours": "mon-sat 09-21; sun 10-18",
        "staff_emails": f"clerk@{store_id}.example.com",
        "manager_emails": "",
    } | cells
    return ",".join(f'"{values[column]}"' for column in COLUMNS)


def csv_of(*rows: str) -> str:
    return "\r\n".join([HEADER, *rows]) + "\r\n"


@pytest.fixture
def invited(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, ...]]:
    """The people flow's invite, as a stand-in that records its calls."""
    from chalicelib.flows import people

    calls: list[tuple[Any, ...]] = []

    def invite(principal: Any, email: str, role: str, stores: Any, region: Any) -> str:
        calls.append((principal.subject, email, role, stores, region))
        return "exists" if [c for c in calls if c[1] == email][:-1] else "invited"

    monkeypatch.setattr(people, "invite", invite)
    return calls


@pytest.fixture
def client() -> Iterator[Any]:
    from chalice.test import Client
    from moto import mock_aws

    from app import app
    from tests.contract import checked

    with pytest.MonkeyPatch.context() as patch, mock_aws():
        patch.setenv("STOREPULSE_TABLE_NAME", "storepulse-onboarding")
        reset_caches()
        dynamodb_local.create_table(dynamodb_local.client(None), "storepulse-onboarding")
        with Client(app) as test_client:
            checked(test_client.http)  # every answer held to the OpenAPI document
            yield test_client.http
    reset_caches()


def post(client: Any, body: Any, headers: dict[str, str] = ADMIN) -> Any:
    return client.post("/v1/onboarding", headers=headers, body=json.dumps(body))


def test_an_admin_onboards_a_csv_and_gets_each_rows_result(client, invited):
    text = csv_of(row("s-1"), row("s-2", country="XX"), row("s-3", manager_emails="m@x.com"))

    response = post(client, {"csv": text})

    assert response.status_code == 200
    assert response.json_body == {
        "rows": [
            {
                "line": 2,
                "store_id": "s-1",
                "status": "created",
                "staff": [{"email": "clerk@s-1.example.com", "status": "invited"}],
            },
            {
                "line": 3,
                "store_id": "s-2",
                "status": "error",
                "error": "country: 'XX' is not an ISO 3166 country code (like US, GB)",
                "staff": [],
            },
            {
                "line": 4,
                "store_id": "s-3",
                "status": "created",
                "staff": [
                    {"email": "clerk@s-3.example.com", "status": "invited"},
                    {"email": "m@x.com", "status": "invited"},
                ],
            },
        ],
        "created": 2,
        "exists": 0,
        "errors": 1,
    }
    stored = stores.read_store("s-3")
    assert stored is not None
    assert stored.region == "central"
    assert stored.opening_hours == {**dict.fromkeys(range(6), (9, 21)), 6: (10, 18)}
    assert stores.read_store("s-2") is None
    assert invited == [
        ("root@example.com", "clerk@s-1.example.com", "staff", ["s-1"], None),
        ("root@example.com", "clerk@s-3.example.com", "staff", ["s-3"], None),
        ("root@example.com", "m@x.com", "manager", None, "central"),
    ]


def test_a_part_of_a_file_numbers_its_rows_from_first_line(client, invited):
    response = post(client, {"csv": csv_of(row("s-1"), row("S 2")), "first_line": 52})

    assert [(r["line"], r["status"]) for r in response.json_body["rows"]] == [
        (52, "created"),
        (53, "error"),
    ]


def test_sent_again_every_row_exists_and_the_stores_are_as_they_were(client, invited):
    text = csv_of(row("s-1"), row("s-2"))
    post(client, {"csv": text})
    before = [stores.read_store(s) for s in ("s-1", "s-2")]

    again = post(client, {"csv": csv_of(row("s-1", name="Renamed"), row("s-2"))})

    assert [r["status"] for r in again.json_body["rows"]] == ["exists", "exists"]
    assert (again.json_body["created"], again.json_body["exists"]) == (0, 2)
    assert [stores.read_store(s) for s in ("s-1", "s-2")] == before


@pytest.mark.parametrize(
    ("token", "status"),
    [
        (None, 401),
        (issue_staff_token("ann", "staff", ["s-1"], now()), 403),
        (issue_staff_token("mia", "manager", [], now(), regions=("central",)), 403),
    ],
)
def test_only_an_admin_may(client, invited, token, status):
    headers = bearer(token) if token else {"Content-Type": "application/json"}

    response = post(client, {"csv": csv_of(row("s-1"))}, headers)

    assert response.status_code == status
    assert stores.read_store("s-1") is None
    assert invited == []


def test_a_wrong_header_is_a_400_naming_the_column(client, invited):
    response = post(client, {"csv": "store_id,name,timezone\r\ns-1,Shop,UTC\r\n"})

    assert response.status_code == 400
    assert response.json_body["error"]["code"] == "bad_request"
    assert "the header has no column country, region" in response.json_body["error"]["message"]


@pytest.mark.parametrize("body", [{}, {"csv": 3}, {"csv": "x", "first_line": 1}, {"cvs": ""}])
def test_a_body_that_is_not_a_request_is_a_400(client, invited, body):
    assert post(client, body).status_code == 400


def test_more_than_a_request_takes_is_a_413_saying_to_split(client, invited):
    text = csv_of(*(row(f"s-{n}", staff_emails="") for n in range(51)))

    response = post(client, {"csv": text})

    assert response.status_code == 413
    assert "Split the CSV" in response.json_body["error"]["message"]
    assert stores.list_store_ids() == []
