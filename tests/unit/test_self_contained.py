"""The repository explains itself: no file sends a reader to documents outside it."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
OUTSIDE = ("../shared", "DESIGN.md", "STYLE.md")


def test_no_file_points_outside_the_repository():
    files = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    this = Path(__file__).relative_to(ROOT).as_posix()
    pointing = [
        f"{name}: {marker}"
        for name in files
        if name != this and (ROOT / name).is_file()
        for marker in OUTSIDE
        if marker in (ROOT / name).read_text(encoding="utf-8", errors="ignore")
    ]

    assert pointing == []
