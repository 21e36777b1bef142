"""People through the API: invitations into a Cognito pool (moto's server), listing,
removal, store-system integrations and each person's SNS subscriptions (moto's server).
The table is moto's (in process); it shares moto's backends with the server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import boto3
import pytest

from chalicelib import directory
from chalicelib.auth import integration_principal, issue_staff_token
from chalicelib.domain.people import notification_filters
from chalicelib.errors import Unauthorized
from chalicelib.notify import subscriptions, topics
from chalicelib.storage import people, stores
from devtools import dynamodb_local
from tests.cognito import CREDENTIALS, REGION, LocalPool, cognito_client, moto_server
from tests.conftest import bearer, make_store, now, reset_caches

pytestmark = pytest.mark.unit

ADMIN = bearer(issue_staff_token("root@example.com", "admin", [], now()))
WEST = bearer(issue_staff_token("west@example.com", "manager", [], now(), regions=["west"]))
STAFF = bearer(issue_staff_token("ann@example.com", "staff", ["store-a"], now()))


@pytest.fixture
def sns() -> Any:
    return boto3.client("sns", endpoint_url=moto_server(), region_name=REGION, **CREDENTIALS)


@pytest.fixture
def app_client(sns: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, LocalPool]]:
    """The app on a moto table with stores in regions west (a, b) and east (c), its pool
    on moto's server, invitations to the outbox and SNS topics on moto's server. All made
    inside mock_aws: starting it resets moto's backends, the server's too."""
    from chalice.test import Client
    from moto import mock_aws

    from app import app
    from tests.contract import checked

    with mock_aws():
        pool = LocalPool.create()
        callbacks = sns.create_topic(Name="callbacks")["TopicArn"]
        alerts = sns.create_topic(Name="alerts")["TopicArn"]
        for name, value in pool.env.items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("STOREPULSE_TABLE_NAME", "storepulse-people")
        monkeypatch.setenv("STOREPULSE_STAFF_INVITE_DELIVERY", "outbox")
        monkeypatch.setenv("STOREPULSE_SNS_ENDPOINT", moto_server())
        monkeypatch.setenv("STOREPULSE_CALLBACKS_TOPIC", callbacks)
        monkeypatch.setenv("STOREPULSE_ALERTS_TOPIC", alerts)
        _reset()
        dynamodb_local.create_table(dynamodb_local.client(None), "storepulse-people")
        stores.put_store(make_store("store-a", region="west"))
        stores.put_store(make_store("store-b", region="west"))
        stores.put_store(make_store("store-c", region="east"))
        topics.PUBLISHED.clear()
        with Client(app) as client:
            checked(client.http)
            yield client, pool
    _reset()


def _reset() -> None:
    reset_caches()
    directory.clear_caches()
    subscriptions.clear_caches()


def invite(client: Any, headers: dict[str, str], **body: Any) -> Any:
    return client.http.post("/v1/staff", headers=headers, body=json.dumps(body))


def groups(pool: LocalPool, email: str) -> set[str]:
    answer = cognito_client(pool.endpoint).admin_list_groups_for_user(
        UserPoolId=pool.pool_id, Username=email
    )
    return {group["GroupName"] for group in answer["Groups"]}


def invitation_password(email: str) -> str:
    (message,) = [m for m in topics.PUBLISHED if m["attributes"].get("email") == email]
    assert message["topic"] == "invitations"
    return str(message["message"].split("temporary password ", 1)[1].split(" ", 1)[0])


# Invitations -------------------------------------------------------------------------------


def test_an_admin_invites_staff_who_sign_in_with_the_outbox_password(app_client):
    client, pool = app_client

    answer = invite(client, ADMIN, email="Bob@Example.com", role="staff", stores=["store-a"])

    assert answer.status_code == 201
    assert answer.json_body == {
        "email": "bob@example.com",
        "role": "staff",
        "stores": ["store-a"],
        "region": None,
        "status": "invited",
    }
    assert groups(pool, "bob@example.com") == {"store:store-a"}
    password = invitation_password("bob@example.com")
    challenge = pool.sign_in("bob@example.com", password)
    assert challenge["ChallengeName"] == "NEW_PASSWORD_REQUIRED"


def test_inviting_again_adds_stores_and_answers_exists(app_client):
    client, pool = app_client
    invite(client, ADMIN, email="bob@example.com", role="staff", stores=["store-a"])

    again = invite(client, ADMIN, email="bob@example.com", role="staff", stores=["store-c"])

    assert again.status_code == 200
    assert again.json_body["status"] == "exists"
    assert groups(pool, "bob@example.com") == {"store:store-a", "store:store-c"}
    assert people.get_person("bob@example.com").stores == ["store-a", "store-c"]
    assert len([m for m in topics.PUBLISHED if m["topic"] == "invitations"]) == 1


def test_flows_invite_is_idempotent_for_onboarding(app_client):
    from chalicelib.auth import staff_principal
    from chalicelib.flows.people import invite as invite_flow

    admin = staff_principal({k.lower(): v for k, v in ADMIN.items()})
    first = invite_flow(admin, "m@example.com", "manager", None, "west")
    second = invite_flow(admin, "m@example.com", "manager", None, "west")

    assert (first, second) == ("invited", "exists")
    assert groups(app_client[1], "m@example.com") == {"manager:west"}


def test_flows_invite_refuses_what_does_not_fit_as_bad_request(app_client):
    from chalicelib.auth import staff_principal
    from chalicelib.errors import BadRequest
    from chalicelib.flows.people import invite as invite_flow

    admin = staff_principal({k.lower(): v for k, v in ADMIN.items()})
    with pytest.raises(BadRequest):
        invite_flow(admin, "not an address", "staff", ["store-a"], None)


def test_another_role_for_an_existing_person_is_a_conflict(app_client):
    client, _ = app_client
    invite(client, ADMIN, email="bob@example.com", role="staff", stores=["store-a"])

    answer = invite(client, ADMIN, email="bob@example.com", role="manager", region="west")

    assert answer.status_code == 409
    assert answer.json_body["error"]["code"] == "conflict"


def test_a_pool_user_without_a_record_is_judged_by_their_groups(app_client):
    client, pool = app_client
    pool.add_user("old@example.com", ["admin"])

    as_staff = invite(client, ADMIN, email="old@example.com", role="staff", stores=["store-a"])
    as_admin = invite(client, ADMIN, email="old@example.com", role="admin")

    assert as_staff.status_code == 409
    assert (as_admin.status_code, as_admin.json_body["status"]) == (200, "exists")
    assert [p["email"] for p in client.http.get("/v1/staff", headers=ADMIN).json_body["staff"]] == [
        "old@example.com"
    ]


@pytest.mark.parametrize(
    "body",
    [
        {"email": "bob@example.com", "role": "staff"},  # staff need stores
        {"email": "bob@example.com", "role": "staff", "stores": ["store-a"], "region": "west"},
        {"email": "bob@example.com", "role": "manager"},  # a manager needs a region
        {"email": "bob@example.com", "role": "admin", "region": "west"},
        {"email": "not-an-address", "role": "admin"},
        {"email": "bob@example.com", "role": "owner"},
        {"email": "bob@example.com", "role": "staff", "stores": ["Bad Id"]},
    ],
)
def test_requests_that_do_not_fit_the_role_are_refused(app_client, body):
    client, _ = app_client

    answer = client.http.post("/v1/staff", headers=ADMIN, body=json.dumps(body))

    assert answer.status_code == 400


def test_an_unknown_store_is_404_for_an_admin_403_for_a_manager(app_client):
    client, _ = app_client

    admin = invite(client, ADMIN, email="bob@example.com", role="staff", stores=["store-z"])
    manager = invite(client, WEST, email="bob@example.com", role="staff", stores=["store-z"])

    assert (admin.status_code, manager.status_code) == (404, 403)


def test_a_manager_invites_staff_of_their_region_only(app_client):
    client, pool = app_client

    ours = invite(client, WEST, email="w1@example.com", role="staff", stores=["store-b"])
    theirs = invite(client, WEST, email="e1@example.com", role="staff", stores=["store-c"])
    mixed = invite(
        client, WEST, email="e2@example.com", role="staff", stores=["store-a", "store-c"]
    )
    manager = invite(client, WEST, email="m2@example.com", role="manager", region="west")

    assert ours.status_code == 201
    assert (theirs.status_code, mixed.status_code, manager.status_code) == (403, 403, 403)
    assert groups(pool, "w1@example.com") == {"store:store-b"}
    assert not directory.user_exists("e1@example.com")


def test_staff_invite_nobody(app_client):
    client, _ = app_client

    answer = invite(client, STAFF, email="x@example.com", role="staff", stores=["store-a"])

    assert answer.status_code == 403


# Listing -----------------------------------------------------------------------------------


def test_an_admin_lists_everyone_a_manager_the_staff_of_their_region(app_client):
    client, _ = app_client
    invite(client, ADMIN, email="a@example.com", role="staff", stores=["store-a"])
    invite(client, ADMIN, email="c@example.com", role="staff", stores=["store-c"])
    invite(client, ADMIN, email="m@example.com", role="manager", region="west")

    everyone = client.http.get("/v1/staff", headers=ADMIN).json_body["staff"]
    west = client.http.get("/v1/staff", headers=WEST).json_body["staff"]

    assert [p["email"] for p in everyone] == ["a@example.com", "c@example.com", "m@example.com"]
    assert [p["email"] for p in west] == ["a@example.com"]
    assert west[0]["stores"] == ["store-a"]
    assert client.http.get("/v1/staff", headers=STAFF).status_code == 403


def test_people_of_the_pool_without_a_record_are_listed_by_their_groups(app_client):
    client, pool = app_client
    pool.add_user("hand@example.com", ["store:store-b"])
    pool.add_user("boss@example.com", ["admin"])

    everyone = client.http.get("/v1/staff", headers=ADMIN).json_body["staff"]
    west = client.http.get("/v1/staff", headers=WEST).json_body["staff"]

    assert [(p["email"], p["role"], p["stores"]) for p in everyone] == [
        ("boss@example.com", "admin", []),
        ("hand@example.com", "staff", ["store-b"]),
    ]
    assert [p["email"] for p in west] == ["hand@example.com"]


# Removal -----------------------------------------------------------------------------------


def test_a_removed_person_is_gone_from_the_pool_and_refused_at_once(app_client):
    client, pool = app_client
    invite(client, ADMIN, email="bob@example.com", role="staff", stores=["store-a"])
    pool.passwords["bob@example.com"] = "Pw-permanent-1a"
    cognito_client(pool.endpoint).admin_set_user_password(
        UserPoolId=pool.pool_id,
        Username="bob@example.com",
        Password="Pw-permanent-1a",
        Permanent=True,
    )
    token = pool.sign_in("bob@example.com")["IdToken"]
    signed_in = bearer(token)
    assert client.http.get("/v1/staff/me/notifications", headers=signed_in).status_code == 200

    answer = client.http.delete(f"/v1/staff/{quote('bob@example.com')}", headers=ADMIN)

    assert answer.status_code == 204
    assert not directory.user_exists("bob@example.com")
    assert "bob@example.com" in people.removed_emails()
    assert people.get_person("bob@example.com") is None
    refused = client.http.get("/v1/staff/me/notifications", headers=signed_in)
    assert refused.status_code == 401


def test_inviting_a_removed_person_again_takes_them_off_the_removed_list(app_client):
    client, _ = app_client
    invite(client, ADMIN, email="bob@example.com", role="staff", stores=["store-a"])
    client.http.delete("/v1/staff/bob@example.com", headers=ADMIN)

    again = invite(client, ADMIN, email="bob@example.com", role="staff", stores=["store-a"])

    assert again.status_code == 201
    assert "bob@example.com" not in people.removed_emails()


def test_a_manager_removes_staff_of_their_region_only(app_client):
    client, _ = app_client
    invite(client, ADMIN, email="a@example.com", role="staff", stores=["store-a"])
    invite(client, ADMIN, email="c@example.com", role="staff", stores=["store-c"])
    invite(client, ADMIN, email="m@example.com", role="manager", region="west")

    assert client.http.delete("/v1/staff/c@example.com", headers=WEST).status_code == 403
    assert client.http.delete("/v1/staff/m@example.com", headers=WEST).status_code == 403
    assert client.http.delete("/v1/staff/a@example.com", headers=STAFF).status_code == 403
    assert client.http.delete("/v1/staff/a@example.com", headers=WEST).status_code == 204
    assert directory.user_exists("c@example.com")
    assert directory.user_exists("m@example.com")


def test_removing_nobody_is_404_and_oneself_409(app_client):
    client, pool = app_client
    pool.add_user("root@example.com", ["admin"])

    assert client.http.delete("/v1/staff/nobody@example.com", headers=ADMIN).status_code == 404
    assert client.http.delete("/v1/staff/root@example.com", headers=ADMIN).status_code == 409


def test_a_person_the_pool_has_without_a_record_is_removed_by_their_groups(app_client):
    client, pool = app_client
    pool.add_user("old@example.com", ["store:store-c"])

    assert client.http.delete("/v1/staff/old@example.com", headers=WEST).status_code == 403
    assert client.http.delete("/v1/staff/old@example.com", headers=ADMIN).status_code == 204
    assert not directory.user_exists("old@example.com")


# Notifications -----------------------------------------------------------------------------


def subscriptions_of(sns: Any, topic: str) -> dict[tuple[str, str], dict[str, Any]]:
    """(protocol, endpoint) -> the subscription's filter policy (None: none)."""
    found = {}
    for sub in sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]:
        attributes = sns.get_subscription_attributes(SubscriptionArn=sub["SubscriptionArn"])
        policy = attributes["Attributes"].get("FilterPolicy")
        found[sub["Protocol"], sub["Endpoint"]] = json.loads(policy) if policy else None
    return found


def put_notifications(client: Any, headers: dict[str, str], **body: Any) -> Any:
    return client.http.put("/v1/staff/me/notifications", headers=headers, body=json.dumps(body))


def test_staff_subscribe_to_their_stores_tasks_and_alerts(app_client, sns):
    client, _ = app_client
    from chalicelib.config import settings

    answer = put_notifications(client, STAFF, email=True, sms="+14155550123")

    assert answer.status_code == 200
    assert answer.json_body == {"email": True, "sms": "+14155550123"}
    assert client.http.get("/v1/staff/me/notifications", headers=STAFF).json_body == {
        "email": True,
        "sms": "+14155550123",
    }
    callbacks = subscriptions_of(sns, settings().callbacks_topic)
    alerts = subscriptions_of(sns, settings().alerts_topic)
    wanted = {"store_id": ["store-a"], "audience": ["staff"]}
    assert callbacks == {
        ("email", "ann@example.com"): wanted,
        ("sms", "+14155550123"): wanted,
    }
    assert alerts == {
        ("email", "ann@example.com"): {"store_id": ["store-a"]},
        ("sms", "+14155550123"): {"store_id": ["store-a"]},
    }


def test_a_manager_subscribes_to_their_regions_escalations(app_client, sns):
    client, _ = app_client
    from chalicelib.config import settings

    put_notifications(client, WEST, email=True, sms=None)

    assert subscriptions_of(sns, settings().callbacks_topic) == {
        ("email", "west@example.com"): {"region": ["west"], "audience": ["manager"]}
    }
    assert subscriptions_of(sns, settings().alerts_topic) == {
        ("email", "west@example.com"): {"region": ["west"]}
    }


def test_turning_notifications_off_removes_the_subscriptions(app_client, sns):
    client, _ = app_client
    from chalicelib.config import settings

    put_notifications(client, STAFF, email=True, sms="+14155550123")
    put_notifications(client, STAFF, email=False, sms=None)

    assert subscriptions_of(sns, settings().callbacks_topic) == {}
    assert subscriptions_of(sns, settings().alerts_topic) == {}


def test_new_stores_and_removal_follow_through_to_the_subscriptions(app_client, sns):
    client, _ = app_client
    from chalicelib.config import settings

    invite(client, ADMIN, email="bob@example.com", role="staff", stores=["store-a"])
    bob = bearer(issue_staff_token("bob@example.com", "staff", ["store-a"], now()))
    put_notifications(client, bob, email=True)
    invite(client, ADMIN, email="bob@example.com", role="staff", stores=["store-b"])

    policy = subscriptions_of(sns, settings().callbacks_topic)[("email", "bob@example.com")]
    assert policy == {"store_id": ["store-a", "store-b"], "audience": ["staff"]}

    client.http.delete("/v1/staff/bob@example.com", headers=ADMIN)

    assert subscriptions_of(sns, settings().callbacks_topic) == {}
    assert subscriptions_of(sns, settings().alerts_topic) == {}


def test_a_bad_phone_number_is_400(app_client):
    client, _ = app_client

    answer = put_notifications(client, STAFF, email=False, sms="0155 555")

    assert answer.status_code == 400


def test_filters_per_role():
    assert notification_filters("admin", [], []) == {
        "callbacks": {"audience": ["manager"]},
        "alerts": None,
    }
    assert notification_filters("staff", ["b", "a"], [])["alerts"] == {"store_id": ["a", "b"]}


# Integrations ------------------------------------------------------------------------------


def test_an_integration_token_works_until_revoked(app_client):
    client, _ = app_client

    made = client.http.post(
        "/v1/integrations",
        headers=ADMIN,
        body=json.dumps({"name": "POS", "store_ids": ["store-a"]}),
    )

    assert made.status_code == 201
    integration_id, token = made.json_body["integration_id"], made.json_body["token"]
    principal = integration_principal({"authorization": f"Bearer {token}"})
    assert (principal.subject, principal.store_ids) == (integration_id, frozenset({"store-a"}))
    listed = client.http.get("/v1/integrations", headers=ADMIN).json_body["integrations"]
    assert [(i["integration_id"], i["name"], i["revoked_at"]) for i in listed] == [
        (integration_id, "POS", None)
    ]
    assert token not in json.dumps(listed)

    revoked = client.http.delete(f"/v1/integrations/{integration_id}", headers=ADMIN)

    assert revoked.status_code == 204
    with pytest.raises(Unauthorized):
        integration_principal({"authorization": f"Bearer {token}"})
    listed = client.http.get("/v1/integrations", headers=ADMIN).json_body["integrations"]
    assert listed[0]["revoked_at"] is not None


def test_a_manager_makes_and_sees_integrations_of_their_region_only(app_client):
    client, _ = app_client

    def make(headers: dict[str, str], *store_ids: str) -> Any:
        body = json.dumps({"name": "POS", "store_ids": list(store_ids)})
        return client.http.post("/v1/integrations", headers=headers, body=body)

    east = make(ADMIN, "store-c").json_body["integration_id"]
    ours = make(WEST, "store-a", "store-b")

    assert ours.status_code == 201
    assert make(WEST, "store-a", "store-c").status_code == 403
    assert make(STAFF, "store-a").status_code == 403
    assert make(ADMIN, "store-z").status_code == 404
    assert make(WEST, "store-z").status_code == 403  # only an admin learns it does not exist
    listed = client.http.get("/v1/integrations", headers=WEST).json_body["integrations"]
    assert [i["integration_id"] for i in listed] == [ours.json_body["integration_id"]]
    assert client.http.delete(f"/v1/integrations/{east}", headers=WEST).status_code == 403
    assert client.http.delete("/v1/integrations/int-nothing", headers=ADMIN).status_code == 404


# Failures ----------------------------------------------------------------------------------


def _closed_port() -> str:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"


def test_an_unreachable_directory_is_503_quickly(app_client, monkeypatch):
    import time

    client, _ = app_client
    monkeypatch.setenv("STOREPULSE_COGNITO_ENDPOINT", _closed_port())
    _reset()
    started = time.monotonic()

    answer = invite(client, ADMIN, email="bob@example.com", role="staff", stores=["store-a"])

    assert answer.status_code == 503
    assert "Retry-After" in answer.headers
    assert time.monotonic() - started < 10  # bounded: two attempts, short timeouts
    assert people.get_person("bob@example.com") is None


def test_no_pool_configured_is_503(app_client, monkeypatch):
    client, _ = app_client
    monkeypatch.delenv("STOREPULSE_COGNITO_USER_POOL_ID")
    _reset()

    answer = invite(client, ADMIN, email="bob@example.com", role="admin")

    assert answer.status_code == 503


def test_an_unreachable_sns_is_503_and_keeps_the_preferences(app_client, monkeypatch):
    client, _ = app_client
    put_notifications(client, STAFF, email=False, sms="+14155550123")
    monkeypatch.setenv("STOREPULSE_SNS_ENDPOINT", _closed_port())
    _reset()

    answer = put_notifications(client, STAFF, email=True, sms=None)

    assert answer.status_code == 503
    assert client.http.get("/v1/staff/me/notifications", headers=STAFF).json_body == {
        "email": False,
        "sms": "+14155550123",
    }
