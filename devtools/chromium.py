"""Debian's Chromium for Playwright (no browser download), with the flags this machine needs:
no sandbox as root, and no background networking (its connections would be refused)."""

from __future__ import annotations

import shutil
from typing import Any

EXECUTABLE = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def launch(playwright: Any) -> Any:
    """A headless Chromium browser from a started `sync_playwright()`."""
    return playwright.chromium.launch(executable_path=EXECUTABLE, args=ARGS)
