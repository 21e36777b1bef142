"""The invitation request's deadline against the client settings: a claim's write and the
void that undoes it must both fit, and the answer must be out inside API Gateway's 29 s."""

from __future__ import annotations

import json
from pathlib import Path

from chalicelib.config import Settings

ROOT = Path(__file__).resolve().parents[2]
API_GATEWAY_S = 29
COLD_START_S = 1  # about, measured by the cold-start benchmark
INVITATION_DEADLINE_S = Settings(table_name="t").invitation_deadline_s  # the default


def test_the_default_settings_leave_room_for_a_claim_and_its_void() -> None:
    worst = Settings(table_name="t").dynamodb_worst_call_s

    # Without room for both, every invitation to text now would answer 503.
    assert 2 * worst < INVITATION_DEADLINE_S
    assert INVITATION_DEADLINE_S + COLD_START_S < API_GATEWAY_S


def test_the_lambda_outlives_the_invitation_deadline() -> None:
    chalice_config = json.loads((ROOT / "functions" / ".chalice" / "config.json").read_text())
    timeouts = [chalice_config["lambda_timeout"]] + [
        stage["lambda_timeout"]
        for stage in chalice_config.get("stages", {}).values()
        if "lambda_timeout" in stage
    ]

    assert all(timeout > INVITATION_DEADLINE_S + COLD_START_S for timeout in timeouts)
