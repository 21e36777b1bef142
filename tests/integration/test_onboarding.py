"""The issue's done-when for bulk onboarding: `make onboard`'s code (devtools/onboard.py)
sends a 200-store CSV with two bad rows to the app, as an admin signed in through the
`cognito` fixture's pool: 198 stores are created (read back from storage), their staff and
managers invited into the pool with their groups, the two bad lines reported with their
line numbers; a run again changes nothing (198 `exists`, the same stored stores and people).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from chalicelib.domain.onboarding import COLUMNS, Chunk
from chalicelib.storage import people, stores
from devtools.onboard import onboard_file
from tests.cognito import LocalPool, cognito_client
from tests.conftest import bearer

STORES = 200
REGIONS = 5
BAD_TIME_ZONE = 57  # the 57th store's row: line 58 of the file
REPEATED = 143  # the 143rd row repeats the 20th's store id: line 144


def store_id(number: int) -> str:
    return f"store-{number:03d}"


def chain_csv() -> str:
    """A chain's CSV as a spreadsheet exports it: 200 rows, one staff e-mail each, a manager
    per region; two rows bad."""
    lines = [",".join(COLUMNS)]
    for number in range(1, STORES + 1):
        region = f"region-{number % REGIONS}"
        cells = [
            store_id(20 if number == REPEATED else number),
            f'"Store {number}, Main Street"',
            "Mars/Olympus" if number == BAD_TIME_ZONE else "America/New_York",
            "US",
            region,
            "mon-fri 08-20; sat 09-18; sun closed",
            f"clerk{number}@chain.example.com",
            f"lead-{region}@chain.example.com",
        ]
        lines.append(",".join(cells))
    return "\r\n".join(lines) + "\r\n"


@pytest.fixture
def admin_api(storage: str, cognito: LocalPool) -> Iterator[tuple[Any, dict[str, str]]]:
    from chalice.test import Client

    from app import app
    from tests.contract import checked

    with Client(app) as client:
        checked(client.http)  # every answer held to the OpenAPI document
        yield client.http, bearer(cognito.id_token("root@chain.example.com", ["admin"]))


def poster(client: Any, headers: dict[str, str]) -> Any:
    """devtools.onboard's post, through the app in this process instead of over HTTP."""

    def post(chunk: Chunk) -> dict[str, Any]:
        body = json.dumps({"csv": chunk.csv, "first_line": chunk.first_line})
        answer = client.post("/v1/onboarding", headers=headers, body=body)
        assert answer.status_code == 200, answer.json_body
        result: dict[str, Any] = answer.json_body
        return result

    return post


def pool_people(pool: LocalPool) -> dict[str, set[str]]:
    """Every user of the pool (by e-mail: the pool's usernames are ids) with their groups."""
    idp = cognito_client(pool.endpoint)
    users = [
        user
        for page in idp.get_paginator("list_users").paginate(UserPoolId=pool.pool_id)
        for user in page["Users"]
    ]
    return {
        next(a["Value"] for a in user["Attributes"] if a["Name"] == "email"): {
            group["GroupName"]
            for group in idp.admin_list_groups_for_user(
                UserPoolId=pool.pool_id, Username=user["Username"]
            )["Groups"]
        }
        for user in users
    }


# On DynamoDB Local only: moto copies the whole table for every transaction it runs (its
# rollback), so 200 stores and their people take minutes there and grow with the square.
@pytest.mark.parametrize("storage", ["dynamodb_local"], indirect=True)
def test_a_chain_of_200_stores_with_two_bad_rows(admin_api, cognito, storage):
    client, headers = admin_api
    printed: list[str] = []

    started = time.perf_counter()
    status = onboard_file(chain_csv(), poster(client, headers), printed.append)
    took = time.perf_counter() - started

    created = sorted(stores.list_store_ids())
    expected = [store_id(n) for n in range(1, STORES + 1) if n not in (BAD_TIME_ZONE, REPEATED)]
    assert status == 1
    assert created == expected
    assert len(created) == 198
    sample = stores.read_store(store_id(1))
    assert sample is not None
    assert (sample.name, sample.timezone, sample.region) == (
        "Store 1, Main Street",
        "America/New_York",
        "region-1",
    )
    assert sample.opening_hours == {**dict.fromkeys(range(5), (8, 20)), 5: (9, 18)}
    errors = [line for line in printed if " error" in line]
    assert len(errors) == 2
    assert errors[0].startswith(f"line {BAD_TIME_ZONE + 1:>6}  {store_id(BAD_TIME_ZONE)}")
    assert "timezone: 'Mars/Olympus' is not an IANA time zone" in errors[0]
    assert errors[1].startswith(f"line {REPEATED + 1:>6}  {store_id(20)}")
    assert "also on line 21" in errors[1]
    assert printed[-1].startswith("200 rows: 198 stores created, 0 already there, 2 failed")
    # 198 clerks and 5 region leads; each row reports its region's lead, invited by the first
    assert "203 people invited, 193 already there" in printed[-1]
    invited = pool_people(cognito)
    assert invited["clerk1@chain.example.com"] == {"store:store-001"}
    assert invited["lead-region-1@chain.example.com"] == {"manager:region-1"}
    assert f"clerk{BAD_TIME_ZONE}@chain.example.com" not in invited
    assert len(invited) == 198 + REGIONS + 1  # and the admin
    print(f"\n[{storage}] 200 rows onboarded in {took:.1f} s")  # the figure in docs/onboarding.md

    stored_stores = [stores.read_store(s) for s in created]
    stored_people = sorted(people.list_people(), key=lambda person: person.email)
    printed.clear()

    started = time.perf_counter()
    again = onboard_file(chain_csv(), poster(client, headers), printed.append)
    print(f"[{storage}] run again in {time.perf_counter() - started:.1f} s")

    assert again == 1
    assert printed[-1].startswith("200 rows: 0 stores created, 198 already there, 2 failed")
    assert "0 people invited, 396 already there" in printed[-1]
    assert sorted(stores.list_store_ids()) == created
    assert [stores.read_store(s) for s in created] == stored_stores
    assert sorted(people.list_people(), key=lambda person: person.email) == stored_people
    assert pool_people(cognito) == invited


def test_a_person_with_another_role_fails_their_row_only_and_a_run_again_finishes_it(
    admin_api, cognito
):
    client, headers = admin_api
    text = "\r\n".join(
        [
            ",".join(COLUMNS),
            "north-1,North One,Europe/London,GB,north,,ann@chain.example.com,lee@chain.example.com",
            "north-2,North Two,Europe/London,GB,north,,lee@chain.example.com,",  # a manager
            "north-3,North Three,Europe/London,GB,north,daily 09-17,,",
        ]
    )
    post = poster(client, headers)

    first = post(Chunk(first_line=2, csv=text, rows=3))

    assert [(r["line"], r["status"]) for r in first["rows"]] == [
        (2, "created"),
        (3, "error"),
        (4, "created"),
    ]
    assert first["rows"][1]["error"].startswith("the store created; not invited: lee@")
    assert first["rows"][1]["staff"][0]["status"] == "error"
    assert "already a manager" in first["rows"][1]["staff"][0]["error"]
    assert sorted(stores.list_store_ids()) == ["north-1", "north-2", "north-3"]
    assert pool_people(cognito)["lee@chain.example.com"] == {"manager:north"}

    fixed = text.replace("lee@chain.example.com,\r\n", "bo@chain.example.com,\r\n")
    again = post(Chunk(first_line=2, csv=fixed, rows=3))

    assert [r["status"] for r in again["rows"]] == ["exists", "exists", "exists"]
    assert again["rows"][1]["staff"] == [{"email": "bo@chain.example.com", "status": "invited"}]
    assert pool_people(cognito)["bo@chain.example.com"] == {"store:north-2"}
