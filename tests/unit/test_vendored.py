"""The staff page's vendored chart library is the pinned release, with its licence beside it."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

VENDOR = Path(__file__).resolve().parents[2] / "staff" / "vendor"
PINNED = {  # uPlot 1.6.32, npm uplot@1.6.32 dist/ (README, "Layout")
    "uplot/uPlot.iife.min.js": "19c8d4c6ad88929a79f4ae49d6f7161566dfd0ba3d15cc495e974f787eb78f1f",
    "uplot/uPlot.min.css": "df630c6a8d6f8eeaff264b50f73ce5b114f646ffd9a0bb74f049b0a00135fa04",
}


@pytest.mark.parametrize("name", sorted(PINNED))
def test_a_vendored_file_is_the_pinned_release(name: str) -> None:
    assert hashlib.sha256((VENDOR / name).read_bytes()).hexdigest() == PINNED[name]


def test_the_library_names_its_version_and_carries_its_licence() -> None:
    assert (
        (VENDOR / "uplot" / "uPlot.iife.min.js")
        .read_text()
        .startswith("/*! https://github.com/leeoniya/uPlot (v1.6.32) */")
    )
    licence = (VENDOR / "uplot" / "LICENSE").read_text()
    assert "MIT License" in licence
    assert "Leon Sorokin" in licence
