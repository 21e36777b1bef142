"""Settings: every one is documented in the README, and a bad one fails with its name."""

from __future__ import annotations

import pytest

from chalicelib.config import ENV_PREFIX, Settings
from devtools.stack_process import ROOT

pytestmark = pytest.mark.unit


def test_every_setting_is_in_the_readme():
    readme = (ROOT / "README.md").read_text()

    missing = [
        ENV_PREFIX + name.upper()
        for name in Settings.model_fields
        if f"`{ENV_PREFIX}{name.upper()}`" not in readme
    ]

    assert missing == []


def test_a_missing_or_malformed_setting_names_the_variable(monkeypatch):
    monkeypatch.delenv("STOREPULSE_TABLE_NAME")
    monkeypatch.setenv("STOREPULSE_RETRY_AFTER_S", "soon")

    with pytest.raises(RuntimeError) as error:
        Settings.from_environment()

    assert "STOREPULSE_TABLE_NAME" in str(error.value)
    assert "STOREPULSE_RETRY_AFTER_S" in str(error.value)


def test_the_invitation_deadline_is_a_setting(monkeypatch):
    monkeypatch.setenv("STOREPULSE_INVITATION_DEADLINE_S", "26")

    assert Settings.from_environment().invitation_deadline_s == 26
    assert Settings(table_name="t").invitation_deadline_s == 25


def test_the_app_refuses_to_start_when_a_claim_and_its_void_do_not_fit_the_invitation_deadline(
    monkeypatch,
):
    # 3 attempts x (1 s + 2.5 s) + 1 s + 2 s of backoff = 13.5 s: 2 x 13.5 s > 25 s, so no
    # invitation claim could ever be written (every text-now invitation would answer 503).
    monkeypatch.setenv("STOREPULSE_DYNAMODB_READ_TIMEOUT_S", "2.5")

    with pytest.raises(RuntimeError) as error:
        Settings.from_environment()

    message = str(error.value)
    assert "STOREPULSE_INVITATION_DEADLINE_S (25 s)" in message
    assert "2 x 13.5 s" in message
    for variable in ("CONNECT_TIMEOUT_S", "READ_TIMEOUT_S", "ATTEMPTS"):
        assert f"STOREPULSE_DYNAMODB_{variable}" in message


def test_a_longer_invitation_deadline_makes_room_for_slower_calls(monkeypatch):
    # 3 x 3.4 s + 3 s = 13.2 s: 26.4 s does not fit 25 s, and fits 27 s.
    monkeypatch.setenv("STOREPULSE_DYNAMODB_READ_TIMEOUT_S", "2.4")
    monkeypatch.setenv("STOREPULSE_INVITATION_DEADLINE_S", "27")

    config = Settings.from_environment()

    assert 2 * config.dynamodb_worst_call_s < config.invitation_deadline_s


def test_the_ingest_deadline_still_needs_room_for_one_call(monkeypatch):
    monkeypatch.setenv("STOREPULSE_INGEST_DEADLINE_S", "10")

    with pytest.raises(RuntimeError, match="STOREPULSE_INGEST_DEADLINE_S"):
        Settings.from_environment()
