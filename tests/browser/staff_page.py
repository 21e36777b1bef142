"""The staff page as the browser tests drive it: signing in (with a developer token, or an
e-mail and password through the user pool), a task's card, and a task as the API serves
it (for pages whose API answers a test fakes with `page.route`)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from playwright.sync_api import Page


def sign_in(page: Page, token: str) -> None:
    """With a developer token: its form is folded away beside the pool's on the local stack."""
    page.wait_for_selector("#token-signin:not([hidden])")
    if not page.locator("#token-signin").evaluate("node => node.open"):
        page.click("#token-signin summary")
    page.fill("#token", token)
    page.click("#signin-form button[type=submit]")


def sign_in_with_password(page: Page, email: str, password: str) -> None:
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("#password-form button[type=submit]")


def card(page: Page, task_id: str) -> Any:
    return page.locator(f'.task[data-task-id="{task_id}"]')


def fake_task(task_id: str, due_at: datetime, phone_masked: str, name: str | None) -> dict:
    created = due_at - timedelta(hours=24)
    return {
        "task_id": task_id,
        "store_id": "demo-store",
        "status": "open",
        "priority": 1,
        "created_at": created.isoformat(),
        "due_at": due_at.isoformat(),
        "claimed_by": None,
        "outcome": None,
        "contact": {"phone_masked": phone_masked, "name": name},
        "ratings": [
            {
                "rating_id": str(uuid.uuid4()),
                "channel": "sms",
                "score": 1,
                "reasons": ["staff"],
                "comment": None,
                "tapped_at": created.isoformat(),
            }
        ],
    }
