"""`make run`'s stack: starts, stores a rating over real HTTP into DynamoDB Local, stops on
Ctrl-C, and starts again with the same data; its demo people sign in through its Cognito
(moto's server) and the API takes their ID tokens."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import jwt
import pytest
import requests

from devtools.stack_process import LocalStack
from tests.cognito import LocalPool
from tests.polling import wait_until

pytestmark = pytest.mark.integration


def post_rating(demo: dict[str, Any]) -> tuple[str, requests.Response]:
    rating_id = str(uuid.uuid4())
    now = datetime.now(UTC).isoformat()
    body = {"sent_at": now, "ratings": [{"rating_id": rating_id, "score": 2, "tapped_at": now}]}
    response = requests.post(
        f"{demo['api_url']}/v1/kiosk/ratings",
        json=body,
        headers={"Authorization": f"Bearer {demo['kiosk_token']}"},
        timeout=10,
    )
    return rating_id, response


def within_one_interval(demo: dict[str, Any], path: str, pick: Any, what: str) -> dict[str, Any]:
    """Poll a staff GET until `pick(body)` finds what one scheduler run should have made."""

    def found() -> Any:
        headers = {"Authorization": f"Bearer {demo['staff_token']}"}
        return pick(requests.get(f"{demo['api_url']}{path}", headers=headers, timeout=10).json())

    timeout = demo["scheduler_interval_s"] + 15
    return dict(wait_until(found, timeout, f"{what} (one scheduler run)", interval=1))


def satisfaction_within_one_interval(demo: dict[str, Any]) -> dict[str, Any]:
    """The rating posted just now shows in the store-local hour within a scheduler interval."""
    from zoneinfo import ZoneInfo

    local_hour = datetime.now(ZoneInfo("America/Los_Angeles")).replace(
        minute=0, second=0, microsecond=0
    )
    return within_one_interval(
        demo,
        f"/v1/stores/{demo['store_id']}/satisfaction?granularity=hour",
        lambda body: next(
            (b for b in body["buckets"] if b["start"] == local_hour.isoformat()), None
        ),
        "the rating in the satisfaction API",
    )


def callback_task_within_one_interval(demo: dict[str, Any], masked: str) -> dict[str, Any]:
    return within_one_interval(
        demo,
        f"/v1/callbacks?store_id={demo['store_id']}&status=open",
        lambda body: next(
            (t for t in body["tasks"] if t["contact"]["phone_masked"] == masked), None
        ),
        "the callback task",
    )


def sms_survey_through_the_fake_phone(demo: dict[str, Any]) -> dict[str, Any]:
    """The issue's walk-through: invitation, `2`, the expectation, a reason, `YES`."""
    from devtools import dynamodb_local, fake_phone

    phone = "+14155550177"
    assert fake_phone.invite(demo, phone)["status"] == "sent"
    invitation = fake_phone.outbox_to(demo, phone, 0)[0]
    assert "Reply 1-5" in invitation[0]
    # The demo survey asks the expectation question after the score.
    assert "Reply 1 worse, 2 as expected, 3 better" in (fake_phone.text(demo, phone, "2") or "")
    assert fake_phone.text(demo, phone, "1") == "Sorry to hear that. What went wrong?"
    assert "YES or NO" in (fake_phone.text(demo, phone, "Nobody at the till") or "")
    assert "call you soon" in (fake_phone.text(demo, phone, "YES") or "")
    from chalicelib.storage import callback_requests, ratings

    stack = {"ddb": dynamodb_local.client(demo["dynamodb_endpoint"]), "table": demo["table_name"]}
    requests_ = callback_requests.stored_requests(**stack)
    assert [r.phone for r in requests_] == [phone]
    rating = ratings.stored_rating(str(requests_[0].rating_id), **stack)
    assert rating is not None
    return {"score": int(rating["score"]), "channel": rating["channel"]}


def test_the_stack_runs_stops_and_runs_again(tmp_path):
    stack = LocalStack(tmp_path)

    demo = stack.start()
    try:
        rating_id, response = post_rating(demo)
        kiosk_page = requests.get(demo["kiosk_url"].split("#")[0], timeout=5)
        hidden = requests.get(
            f"http://127.0.0.1:{stack.ports['pages']}/.local/demo.json", timeout=5
        )
        assert response.status_code == 200
        assert response.json()["results"][0]["status"] == "stored"
        assert stack.rating_item(rating_id) is not None
        assert kiosk_page.status_code == 200
        assert hidden.status_code == 404
        keys = {"api_url", "kiosk_url", "dynamodb_endpoint", "store_id", "kiosk_id"}
        assert keys | {"kiosk_token", "staff_token"} <= demo.keys()
        bucket = satisfaction_within_one_interval(demo)
        assert bucket["responses"] >= 1
        sms_rating = sms_survey_through_the_fake_phone(demo)
        assert sms_rating["score"] == 2
        assert sms_rating["channel"] == "sms"
        task = callback_task_within_one_interval(demo, "+1******0177")
        assert task["ratings"][0]["channel"] == "sms"
        wait_until(  # the console echoes the notification; it reads the log every second
            lambda: "kind=callback_task" in (tmp_path / "stack.log").read_text(),
            timeout=10,
            message="the console's echo of the callback task",
        )
        second = LocalStack(tmp_path / "second", stack.ports).run_to_exit()
        assert second.returncode == 2
        assert "in use (is another `make run` still running?)" in second.stderr
    finally:
        exit_code = stack.stop()
    assert exit_code == 0

    stack.start()
    try:
        assert stack.rating_item(rating_id) is not None  # data survives a restart
        assert post_rating(stack.demo)[1].status_code == 200
    finally:
        stack.stop()


def test_the_demo_people_sign_in_through_the_stacks_cognito(tmp_path):
    stack = LocalStack(tmp_path)
    demo = stack.start()
    try:
        pages_url = demo["staff_url"].removesuffix("/staff/")
        config_json = requests.get(f"{pages_url}/config.json", timeout=5)
        pool = LocalPool(
            demo["cognito_endpoint"], demo["user_pool_id"], demo["user_pool_client_id"]
        )
        tokens = {
            role: pool.sign_in(demo[f"{role}_email"], demo[f"{role}_password"])["IdToken"]
            for role in ("staff", "manager", "admin")
        }
        claims = {
            role: jwt.decode(token, options={"verify_signature": False})
            for role, token in tokens.items()
        }

        def callbacks(role: str, store_id: str) -> int:
            return requests.get(
                f"{demo['api_url']}/v1/callbacks?store_id={store_id}&status=open",
                headers={"Authorization": f"Bearer {tokens[role]}"},
                timeout=10,
            ).status_code

        answers = {
            (role, store): callbacks(role, store)
            for role in ("staff", "manager", "admin")
            for store in (demo["store_id"], demo["other_store_id"])
        }
        wrong = requests.post(
            f"{demo['cognito_endpoint']}/",
            json={
                "AuthFlow": "USER_PASSWORD_AUTH",
                "ClientId": demo["user_pool_client_id"],
                "AuthParameters": {"USERNAME": demo["staff_email"], "PASSWORD": "Wrong-pass-123"},
            },
            headers={
                "Content-Type": "application/x-amz-json-1.1",
                "X-Amz-Target": "AWSCognitoIdentityProviderService.InitiateAuth",
            },
            timeout=10,
        )
    finally:
        assert stack.stop() == 0

    assert {"cognito_endpoint", "user_pool_id", "user_pool_client_id"} <= demo.keys()
    assert {"staff_token", "admin_token", "other_staff_token"} <= demo.keys()  # still there
    assert demo["user_pool_id"].startswith(f"{demo['region']}_")
    assert config_json.json() == {
        "api_url": demo["api_url"],
        "cognito_endpoint": demo["cognito_endpoint"] + "/",
        "user_pool_client_id": demo["user_pool_client_id"],
        "region": demo["region"],
    }
    # The pages may talk to the API and this Cognito endpoint, and nothing else.
    connect = next(
        rule.split()[1:]
        for rule in config_json.headers["Content-Security-Policy"].split("; ")
        if rule.startswith("connect-src ")
    )
    assert connect == ["'self'", demo["api_url"], demo["cognito_endpoint"]]
    assert claims["staff"]["cognito:groups"] == ["store:demo-store"]
    assert claims["manager"]["cognito:groups"] == ["manager:west"]
    assert claims["admin"]["cognito:groups"] == ["admin"]
    for role, token_claims in claims.items():
        assert token_claims["email"] == demo[f"{role}_email"]
        assert token_claims["aud"] == demo["user_pool_client_id"]
        assert token_claims["token_use"] == "id"
    # The API checks the pool's tokens: staff see their store only; the manager both demo
    # stores (region west), the admin every store.
    assert answers == {
        ("staff", demo["store_id"]): 200,
        ("staff", demo["other_store_id"]): 403,
        ("manager", demo["store_id"]): 200,
        ("manager", demo["other_store_id"]): 200,
        ("admin", demo["store_id"]): 200,
        ("admin", demo["other_store_id"]): 200,
    }
    assert wrong.status_code == 400
    assert wrong.json()["__type"] == "NotAuthorizedException"
