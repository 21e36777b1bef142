"""The packaged template: `chalice package` merged with infra/resources.yaml (as `make
package` makes it), once per session: every infra test reads the same file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def packaged(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("package")
    chalice = Path(sys.executable).with_name("chalice")
    env = os.environ | {"AWS_DEFAULT_REGION": "us-east-1", "STOREPULSE_TABLE_NAME": "packaging"}
    subprocess.run(
        [
            str(chalice),
            "package",
            "--stage",
            "dev",
            "--pkg-format",
            "cloudformation",
            "--template-format",
            "yaml",
            "--merge-template",
            str(ROOT / "infra" / "resources.yaml"),
            str(out),
        ],
        cwd=ROOT / "functions",
        env=env,
        check=True,
        capture_output=True,
    )
    return out / "sam.yaml"


@pytest.fixture(scope="session")
def template(packaged: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(packaged.read_text())
    return loaded
