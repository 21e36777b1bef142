"""`make run`'s stack: starts, stores a rating over real HTTP into DynamoDB Local, stops on
Ctrl-C, and starts again with the same data."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests

from devtools import dynamodb_local

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


def start_stack(local_dir: Path, ports: dict[str, int]) -> tuple[subprocess.Popen[bytes], dict]:
    demo_file = local_dir / "demo.json"
    demo_file.unlink(missing_ok=True)
    env = os.environ | {
        "STOREPULSE_LOCAL_DIR": str(local_dir),
        "PORT": str(ports["api"]),
        "PAGES_PORT": str(ports["pages"]),
        "DDB_PORT": str(ports["dynamodb"]),
    }
    for key in ("STOREPULSE_DYNAMODB_ENDPOINT", "STOREPULSE_TABLE_NAME"):
        env.pop(key, None)
    stack = subprocess.Popen(
        [sys.executable, "-m", "devtools.local_stack"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 90
    while not demo_file.exists():
        if stack.poll() is not None or time.monotonic() > deadline:
            stack.kill()
            output = stack.stdout.read().decode() if stack.stdout else ""
            pytest.fail(f"the local stack did not start:\n{output[-3000:]}")
        time.sleep(0.3)
    return stack, json.loads(demo_file.read_text())


def stop_stack(stack: subprocess.Popen[bytes]) -> int:
    stack.send_signal(signal.SIGINT)  # what Ctrl-C sends
    return stack.wait(timeout=30)


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


def stored(demo: dict[str, Any], rating_id: str) -> bool:
    ddb = dynamodb_local.client(demo["dynamodb_endpoint"])
    key = {"pk": {"S": f"RATING#{rating_id}"}, "sk": {"S": "RATING"}}
    return "Item" in ddb.get_item(TableName=demo["table_name"], Key=key)


def test_the_stack_runs_stops_and_runs_again(tmp_path):
    ports = {name: dynamodb_local.free_port() for name in ("api", "pages", "dynamodb")}

    stack, demo = start_stack(tmp_path, ports)
    try:
        rating_id, response = post_rating(demo)
        kiosk_page = requests.get(demo["kiosk_url"].split("#")[0], timeout=5)
        hidden = requests.get(f"http://127.0.0.1:{ports['pages']}/.local/demo.json", timeout=5)
        assert response.status_code == 200
        assert response.json()["results"][0]["status"] == "stored"
        assert stored(demo, rating_id)
        assert kiosk_page.status_code == 200
        assert hidden.status_code == 404
        keys = {"api_url", "kiosk_url", "dynamodb_endpoint", "store_id", "kiosk_id"}
        assert keys | {"kiosk_token", "staff_token"} <= demo.keys()
    finally:
        exit_code = stop_stack(stack)
    assert exit_code == 0

    stack, again = start_stack(tmp_path, ports)
    try:
        assert stored(again, rating_id)  # data survives a restart
        assert post_rating(again)[1].status_code == 200
    finally:
        stop_stack(stack)
