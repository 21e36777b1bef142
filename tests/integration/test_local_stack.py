"""`make run`'s stack: starts, stores a rating over real HTTP into DynamoDB Local, stops on
Ctrl-C, and starts again with the same data."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
import requests

from devtools.stack_process import LocalStack

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
