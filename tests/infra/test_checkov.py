"""checkov finds nothing wrong with the packaged template: every check passes or is skipped
in infra/resources.yaml with a reason (`Metadata: checkov: skip`)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.infra

# Its own virtualenv (see the Makefile): checkov pins libraries the app must not be held to.
CHECKOV = Path(__file__).resolve().parents[2] / ".venv" / "checkov" / "bin" / "checkov"


@pytest.fixture(scope="module")
def checkov_report(packaged: Path) -> dict[str, Any]:
    result = subprocess.run(
        [
            str(CHECKOV),
            "--file",
            str(packaged),
            "--framework",
            "cloudformation",
            "--compact",
            "--skip-download",  # no Prisma Cloud guidelines: offline, same checks
            "--output",
            "json",
        ],
        capture_output=True,
        text=True,
        check=False,
        env=os.environ | {"BC_SKIP_MAPPING": "TRUE"},
    )
    # Exit code 1 means failed checks: the report says which.
    assert result.returncode in (0, 1), result.stdout + result.stderr
    report = json.loads(result.stdout)
    report = report[0] if isinstance(report, list) else report
    assert report["check_type"] == "cloudformation"
    return report  # type: ignore[no-any-return]


def test_checkov_passes_every_check_it_does_not_skip(checkov_report):
    failed = [
        f"{check['check_id']} {check['resource']}: {check['check_name']}"
        for check in checkov_report["results"]["failed_checks"]
    ]

    assert checkov_report["summary"]["parsing_errors"] == 0
    assert not failed, "checkov failed:\n" + "\n".join(failed)
    assert checkov_report["summary"]["passed"] > 0


def test_every_skipped_check_says_why(checkov_report):
    unexplained = [
        f"{check['check_id']} {check['resource']}"
        for check in checkov_report["results"]["skipped_checks"]
        if check.get("check_result", {}).get("suppress_comment", "No comment provided")
        in ("", "No comment provided")
    ]

    assert not unexplained, unexplained
