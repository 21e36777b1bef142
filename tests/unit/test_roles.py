"""Who may call which route: every route of the app, for six callers signed in with the
pool's real ID tokens (moto's Cognito): nobody, staff of the store, staff of another store,
the manager of the store's region, a manager of another region, an admin.

Each route has a row saying, per caller, 401 (not a credential for it), 403 (a credential
that does not allow it) or OK (any other answer: 2xx, or a 4xx that is not about who is
calling, e.g. 409 because the task was claimed by another caller before). A route of the
app without a row fails the test: a new route comes with its rule.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from chalicelib.domain.kiosks import Kiosk
from chalicelib.domain.survey import DEFAULT_SURVEY
from chalicelib.domain.tasks import TaskRating, new_task
from chalicelib.errors import Forbidden
from chalicelib.storage import stores, tasks
from devtools import dynamodb_local
from tests.cognito import LocalPool
from tests.conftest import make_store, now, reset_caches

CALLERS = ("anonymous", "staff", "other_staff", "manager", "other_manager", "admin")
GROUPS = {
    "staff": ["store:store-a"],
    "other_staff": ["store:store-b"],
    "manager": ["manager:west"],
    "other_manager": ["manager:east"],
    "admin": ["admin"],
}
OK = "ok"
Rule = dict[str, int | str]


def rule(**answers: int | str) -> Rule:
    assert set(answers) == set(CALLERS)
    return answers


# Rules as the roles define them (docs/security.md, "Roles and sign-in"); store-a is in region
# west (the manager's), store-b in east (the other manager's).
PUBLIC = rule(anonymous=OK, staff=OK, other_staff=OK, manager=OK, other_manager=OK, admin=OK)
ANYONE_SIGNED_IN = PUBLIC | {"anonymous": 401}
SEE = rule(anonymous=401, staff=OK, other_staff=403, manager=OK, other_manager=403, admin=OK)
MANAGE = SEE | {"staff": 403}
MANAGERS = ANYONE_SIGNED_IN | {"staff": 403, "other_staff": 403}  # each sees their own part
ADMIN = rule(anonymous=401, staff=403, other_staff=403, manager=403, other_manager=403, admin=OK)
NOT_A_PERSON = dict.fromkeys(CALLERS, 401)  # a kiosk's or a store system's credential only
TWILIO_SIGNED = dict.fromkeys(CALLERS, 403)  # Twilio's signature, whoever calls


@dataclass(frozen=True)
class Row:
    method: str
    route: str  # as app.routes names it
    rule: Rule
    path: str = ""  # the route with its ids ({task}, {kiosk}, {person}, {integration}, {webhook})
    body: Callable[[], Any] | None = None  # made when the row runs (some need the helpers' models)
    form: bool = False

    def concrete(self, ids: dict[str, str]) -> str:
        return (self.path or self.route).format(**ids)


def _survey() -> dict[str, Any]:
    from chalicelib.domain.store_edits import SurveyChange

    survey = DEFAULT_SURVEY.model_dump(mode="json")
    return {name: value for name, value in survey.items() if name in SurveyChange.model_fields}


def _new_store() -> dict[str, Any]:
    return {
        "store_id": "store-west-2",
        "name": "West 2",
        "timezone": "America/Los_Angeles",
        "country": "US",
        "region": "west",
    }


def _hook() -> dict[str, Any]:
    return {"url": "https://till.example.com/hooks", "events": ["callback_task"]}


ONBOARDING_CSV = (
    "store_id,name,timezone,country,region,opening_hours,staff_emails,manager_emails\n"
    "store-west-3,West 3,America/Los_Angeles,US,west,,,\n"
)

ROWS = [
    Row("POST", "/v1/kiosks/pair", PUBLIC, body=dict),  # a code is needed: 400, whoever asks
    Row("GET", "/v1/kiosk/survey", NOT_A_PERSON),
    Row("POST", "/v1/kiosk/ratings", NOT_A_PERSON, body=lambda: {"sent_at": "x", "ratings": []}),
    Row("POST", "/v1/surveys/invitations", NOT_A_PERSON, body=lambda: {"store_id": "store-a"}),
    Row("POST", "/v1/sms/twilio", TWILIO_SIGNED, body=lambda: "From=%2B15550100&Body=5", form=True),
    Row("GET", "/v1/openapi.json", PUBLIC),
    Row("GET", "/v1/callbacks", SEE, path="/v1/callbacks?store_id=store-a"),
    Row("GET", "/v1/callbacks/limits", ANYONE_SIGNED_IN),
    Row("GET", "/v1/callbacks/{task_id}", SEE, path="/v1/callbacks/{task}"),
    Row("POST", "/v1/callbacks/{task_id}/claim", SEE, path="/v1/callbacks/{task}/claim"),
    Row(
        "POST",
        "/v1/callbacks/{task_id}/attempts",
        SEE,
        path="/v1/callbacks/{task}/attempts",
        body=lambda: {"result": "no_answer"},
    ),
    Row(
        "POST",
        "/v1/callbacks/{task_id}/resolve",
        SEE,
        path="/v1/callbacks/{task}/resolve",
        body=lambda: {"outcome": "unreachable", "note": "no answer twice"},
    ),
    Row("GET", "/v1/stores/{store_id}/recovery", SEE, path="/v1/stores/store-a/recovery"),
    Row("GET", "/v1/stores/{store_id}/satisfaction", SEE, path="/v1/stores/store-a/satisfaction"),
    Row("GET", "/v1/satisfaction", MANAGE, path="/v1/satisfaction?store_ids=store-a"),
    Row("GET", "/v1/stores", ANYONE_SIGNED_IN),
    Row("POST", "/v1/stores", MANAGE, body=_new_store),
    Row("GET", "/v1/stores/{store_id}", SEE, path="/v1/stores/store-a"),
    Row("PATCH", "/v1/stores/{store_id}", MANAGE, "/v1/stores/store-a", lambda: {"name": "A"}),
    Row("GET", "/v1/stores/{store_id}/survey", SEE, path="/v1/stores/store-a/survey"),
    Row("PUT", "/v1/stores/{store_id}/survey", MANAGE, "/v1/stores/store-a/survey", _survey),
    Row("GET", "/v1/stores/{store_id}/kiosks", SEE, path="/v1/stores/store-a/kiosks"),
    # The tablets are in the shop: its staff pair and revoke them too.
    Row("POST", "/v1/stores/{store_id}/kiosks", SEE, "/v1/stores/store-a/kiosks", dict),
    Row(
        "POST",
        "/v1/stores/{store_id}/kiosks/{kiosk_id}/revoke",
        SEE,
        path="/v1/stores/store-a/kiosks/{kiosk}/revoke",
    ),
    Row(
        "POST",
        "/v1/staff",
        MANAGE,
        body=lambda: {"email": "new@example.com", "role": "staff", "stores": ["store-a"]},
    ),
    Row("GET", "/v1/staff", MANAGERS),
    Row("DELETE", "/v1/staff/{email}", MANAGE, path="/v1/staff/{person}"),
    Row("GET", "/v1/staff/me/notifications", ANYONE_SIGNED_IN),
    Row("PUT", "/v1/staff/me/notifications", ANYONE_SIGNED_IN, body=lambda: {"email": False}),
    Row(
        "POST",
        "/v1/integrations",
        MANAGE,
        body=lambda: {"name": "till", "store_ids": ["store-a"]},
    ),
    Row("GET", "/v1/integrations", MANAGERS),
    Row(
        "DELETE",
        "/v1/integrations/{integration_id}",
        MANAGE,
        path="/v1/integrations/{integration}",
    ),
    Row("POST", "/v1/onboarding", ADMIN, body=lambda: {"csv": ONBOARDING_CSV}),
    # Issue 15: exports, kiosk health (a row for a route not yet built is left out).
    Row("GET", "/v1/stores/{store_id}/ratings.csv", SEE, "/v1/stores/store-a/ratings.csv"),
    Row(
        "GET",
        "/v1/stores/{store_id}/satisfaction.csv",
        SEE,
        "/v1/stores/store-a/satisfaction.csv",
    ),
    Row("POST", "/v1/kiosk/heartbeat", NOT_A_PERSON, body=dict),
    Row("GET", "/v1/kiosks", MANAGERS),  # the fleet: an admin's chain, a manager's region
    # Issue 16: the link survey is public (its code is printed in the shop); webhooks are
    # managed by the store's manager or an admin.
    Row("GET", "/v1/link/{store_code}/survey", PUBLIC, "/v1/link/store-a/survey"),
    Row("POST", "/v1/link/{store_code}/ratings", PUBLIC, "/v1/link/store-a/ratings", dict),
    Row("POST", "/v1/stores/{store_id}/webhooks", MANAGE, "/v1/stores/store-a/webhooks", _hook),
    Row("GET", "/v1/stores/{store_id}/webhooks", MANAGE, "/v1/stores/store-a/webhooks"),
    Row(
        "POST",
        "/v1/stores/{store_id}/webhooks/{webhook_id}/rotate",
        MANAGE,
        path="/v1/stores/store-a/webhooks/{webhook}/rotate",
    ),
    Row(
        "DELETE",
        "/v1/stores/{store_id}/webhooks/{webhook_id}",
        MANAGE,
        path="/v1/stores/store-a/webhooks/{webhook}",
    ),
]


@dataclass
class Chain:
    """The app on a fresh table and pool, with store-a (west), store-b (east), a task and a
    kiosk of store-a, and each caller's ID token."""

    client: Any
    pool: LocalPool
    tokens: dict[str, str]
    ids: dict[str, dict[str, str]] = field(default_factory=dict)  # per caller

    def call(self, row: Row, caller: str) -> Any:
        headers = {"Content-Type": "application/json"}
        if caller != "anonymous":
            headers["Authorization"] = f"Bearer {self.tokens[caller]}"
        body = row.body() if row.body else None
        if row.form:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif body is not None:
            body = json.dumps(body)
        path = row.concrete(self.ids[caller])
        return self.client.http.request(row.method, path, headers=headers, body=body or b"")


def _task(store_id: str) -> str:
    at = now()
    task_id = f"t-{uuid.uuid4().hex[:8]}"
    rating = TaskRating(rating_id=task_id, channel="kiosk", score=1, tapped_at=at)
    phone = "+12025550143"
    task = new_task(task_id, store_id, f"key-{task_id}", phone, None, rating, at, at + timedelta(1))
    tasks.create_task(task, phone)
    return task_id


def _kiosk(store_id: str) -> str:
    kiosk_id = f"k-{uuid.uuid4().hex[:8]}"
    stores.put_kiosk(Kiosk(kiosk_id=kiosk_id, store_id=store_id, status="paired", created_at=now()))
    return kiosk_id


def _webhook(store_id: str) -> str:
    from chalicelib.domain.webhooks import NewWebhook
    from chalicelib.flows import webhooks

    created = webhooks.create_webhook(store_id, NewWebhook.model_validate(_hook()), now())
    return str(created["webhook_id"])


def _ids(caller: str, pool: LocalPool, routes: set[tuple[str, str]]) -> dict[str, str]:
    """Ids of things of store-a, one set per caller, so that one caller's DELETE leaves the
    next caller something to be refused or allowed."""
    ids = {"task": _task("store-a"), "kiosk": _kiosk("store-a")}
    person = f"target-{caller.replace('_', '-')}@example.com"
    pool.add_user(person, ["store:store-a"])
    ids["person"] = person
    ids["integration"] = "none"
    ids["webhook"] = _webhook("store-a")
    if ("/v1/integrations", "POST") in routes:
        from chalicelib.auth import StaffPrincipal
        from chalicelib.domain.people import IntegrationRequest
        from chalicelib.flows import integrations

        admin = StaffPrincipal("setup@example.com", "admin", frozenset())
        request = IntegrationRequest(name=f"till-{caller}", store_ids=["store-a"])
        ids["integration"] = integrations.create(admin, request, now())["integration_id"]
    return ids


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chain]:
    from chalice.test import Client
    from moto import mock_aws

    from app import app

    outbox: Path = tmp_path_factory.mktemp("roles") / "outbox.jsonl"
    routes = {(path, method) for path, views in app.routes.items() for method in views}
    with pytest.MonkeyPatch.context() as patch, mock_aws():
        patch.setenv("STOREPULSE_TABLE_NAME", "storepulse-roles")
        patch.setenv("STOREPULSE_NOTIFICATIONS_LOG", str(outbox))
        patch.setenv("STOREPULSE_STAFF_INVITE_DELIVERY", "outbox")
        # Mock first, pool second: starting moto's mock resets the backends its server shares.
        pool = LocalPool.create()
        for name, value in pool.env.items():
            patch.setenv(name, value)
        reset_caches()
        dynamodb_local.create_table(dynamodb_local.client(None), "storepulse-roles")
        stores.put_store(make_store("store-a", region="west"))
        stores.put_store(make_store("store-b", region="east"))
        people = {caller: f"{caller.replace('_', '-')}@example.com" for caller in GROUPS}
        tokens = {caller: pool.id_token(email, GROUPS[caller]) for caller, email in people.items()}
        with Client(app) as client:
            world = Chain(client, pool, tokens)
            world.ids = {caller: _ids(caller, pool, routes) for caller in CALLERS}
            yield world
    reset_caches()


def test_every_route_has_a_rule() -> None:
    from app import app

    routes = {(path, method) for path, views in app.routes.items() for method in views}
    rows = [(row.route, row.method) for row in ROWS]

    assert len(rows) == len(set(rows)), "a route has two rows"
    assert routes <= set(rows), f"routes without a rule: {sorted(routes - set(rows))}"


def _routed(row: Row) -> bool:
    from app import app

    return row.method in app.routes.get(row.route, {})


def _rows_of_the_app() -> list[Row]:
    return [row for row in ROWS if _routed(row)]


@pytest.mark.parametrize("row", _rows_of_the_app(), ids=lambda row: f"{row.method} {row.route}")
def test_each_caller_gets_what_the_roles_say(chain: Chain, row: Row) -> None:
    got = {}
    for caller in CALLERS:
        status = chain.call(row, caller).status_code
        assert status < 500, (caller, status)
        got[caller] = status if status in (401, 403) else OK

    assert got == row.rule


NOWHERE = [  # routes naming a store, with a store id that does not exist
    Row("GET", "/v1/stores/{store_id}", SEE, "/v1/stores/nowhere"),
    Row("PATCH", "/v1/stores/{store_id}", MANAGE, "/v1/stores/nowhere", lambda: {"name": "N"}),
    Row("GET", "/v1/stores/{store_id}/survey", SEE, "/v1/stores/nowhere/survey"),
    Row("PUT", "/v1/stores/{store_id}/survey", MANAGE, "/v1/stores/nowhere/survey", _survey),
    Row("GET", "/v1/stores/{store_id}/kiosks", SEE, "/v1/stores/nowhere/kiosks"),
    Row("POST", "/v1/stores/{store_id}/kiosks", SEE, "/v1/stores/nowhere/kiosks", dict),
    Row("GET", "/v1/stores/{store_id}/recovery", SEE, "/v1/stores/nowhere/recovery"),
    Row("GET", "/v1/stores/{store_id}/satisfaction", SEE, "/v1/stores/nowhere/satisfaction"),
    Row("GET", "/v1/satisfaction", MANAGE, "/v1/satisfaction?store_ids=nowhere"),
    Row("GET", "/v1/callbacks", SEE, "/v1/callbacks?store_id=nowhere"),
    Row("POST", "/v1/integrations", MANAGE, body=lambda: {"name": "t", "store_ids": ["nowhere"]}),
]


@pytest.mark.parametrize(
    "row",
    [row for row in NOWHERE if _routed(row)],
    ids=lambda row: f"{row.method} {row.route}",
)
def test_a_store_that_does_not_exist_is_403_for_all_but_an_admin(chain: Chain, row: Row) -> None:
    """Nobody but an admin learns which store ids exist by asking for them."""
    answers = {caller: chain.call(row, caller).status_code for caller in CALLERS}

    assert {caller: answers.pop(caller) for caller in CALLERS[:-1]} == {
        "anonymous": 401,
        "staff": 403,
        "other_staff": 403,
        "manager": 403,
        "other_manager": 403,
    }
    assert answers["admin"] not in (401, 403), answers
    assert answers["admin"] < 500, answers


def test_a_manager_sees_the_figures_of_every_store_of_the_region(chain: Chain) -> None:
    stores.put_store(make_store("store-c", region="west"))
    row = Row("GET", "/v1/satisfaction", MANAGE, "/v1/satisfaction?granularity=day")

    seen = {
        caller: {view["store_id"] for view in chain.call(row, caller).json_body["stores"]}
        for caller in ("manager", "other_manager", "admin")
    }
    region = {store_id: stores.get_store(store_id).region for store_id in seen["admin"]}

    assert {"store-a", "store-c"} <= seen["manager"]
    assert {region[store_id] for store_id in seen["manager"]} == {"west"}
    assert {region[store_id] for store_id in seen["other_manager"]} == {"east"}
    assert seen["admin"] == set(stores.list_store_ids())


def test_a_manager_names_the_store_of_the_tasks(chain: Chain) -> None:
    """Tasks are read per store: a manager (or an admin) names one of their stores."""
    listing = Row("GET", "/v1/callbacks", SEE)

    answer = chain.call(listing, "manager")
    staff_answer = chain.call(listing, "staff")

    assert answer.status_code == 400
    assert "store_id" in answer.json_body["error"]["message"]
    assert staff_answer.status_code == 200  # staff of one store may leave it out


def test_the_rules_on_plain_values() -> None:
    from chalicelib.auth import StaffPrincipal

    west, east, nowhere = (
        make_store("s-west", region="west"),
        make_store("s-east", region="east"),
        make_store("s-none", region=None),
    )
    staff = StaffPrincipal("s@example.com", "staff", frozenset({"s-west"}))
    manager = StaffPrincipal("m@example.com", "manager", frozenset({"s-east"}), frozenset({"west"}))
    admin = StaffPrincipal("a@example.com", "admin", frozenset())

    assert [staff.can_see(s) for s in (west, east, nowhere)] == [True, False, False]
    assert [staff.can_manage(s) for s in (west, east, nowhere)] == [False, False, False]
    # A manager's own store: groups let them see a store of another region, not edit it.
    assert [manager.can_see(s) for s in (west, east, nowhere)] == [True, True, False]
    assert [manager.can_manage(s) for s in (west, east, nowhere)] == [True, False, False]
    assert all(admin.can_manage(s) for s in (west, east, nowhere))
    with pytest.raises(Forbidden):
        manager.require_admin()
    with pytest.raises(Forbidden):
        staff.require_manage(west)
