"""`make run`'s stack: starts, stores a rating over real HTTP into DynamoDB Local, stops on
Ctrl-C, and starts again with the same data."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
import requests

from devtools.stack_process import LocalStack
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
