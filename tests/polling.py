"""Waiting for a condition with a deadline: the one poll of every layer, instead of fixed
sleeps that are too short on a busy machine and too long on an idle one."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def wait_until(
    condition: Callable[[], Any],
    timeout: float = 15,
    message: str = "",
    interval: float = 0.2,
    sleep: Callable[[float], Any] = time.sleep,
) -> Any:
    """The first truthy value of `condition()`, polled every `interval` seconds; an
    AssertionError naming `message` after `timeout`. `sleep` waits between polls (a
    Playwright page passes its own wait, so that its route handlers run meanwhile)."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting: {message}")
        sleep(interval)
