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
