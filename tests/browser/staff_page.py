"""The staff page as the browser tests drive it: signing in (with a developer token, or an
e-mail and password through the user pool), a task's card, a task as the API serves it
(for pages whose API answers a test fakes with `page.route`), a real callback task made on
the local stack, and the text a screen shows (to find English left in Chinese)."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import requests
from playwright.sync_api import Page

from tests.browser.conftest import wait_until


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


def now_iso() -> str:
    return datetime.now(UTC).isoformat()


def api_get(stack: Any, path: str, token: str) -> requests.Response:
    return requests.get(
        f"{stack.demo['api_url']}{path}", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )


def open_tasks(stack: Any, store: str | None = None) -> list[dict[str, Any]]:
    store = store or stack.demo["store_id"]
    response = api_get(
        stack, f"/v1/callbacks?store_id={store}&status=open", stack.demo["admin_token"]
    )
    assert response.status_code == 200, response.text
    return response.json()["tasks"]


def callback_task(
    stack: Any,
    phone: str,
    name: str | None,
    comment: str | None,
    kiosk: dict[str, Any] | None = None,
    score: int = 1,
) -> dict[str, Any]:
    """An unhappy kiosk rating with a callback (from the demo kiosk, or `kiosk` as paired),
    then the open task the scheduler makes of it."""
    rating_id = str(uuid.uuid4())
    kiosk = kiosk or {"token": stack.demo["kiosk_token"], "store_id": stack.demo["store_id"]}
    stored = requests.post(
        f"{stack.demo['api_url']}/v1/kiosk/ratings",
        headers={"Authorization": f"Bearer {kiosk['token']}"},
        json={
            "sent_at": now_iso(),
            "ratings": [
                {
                    "rating_id": rating_id,
                    "score": score,
                    "tapped_at": now_iso(),
                    "reasons": ["wait_time"],
                    "comment": comment,
                    "locale": "en",
                    "callback": {"phone": phone, "name": name, "consent": True},
                }
            ],
        },
        timeout=10,
    )
    assert stored.json()["results"][0]["status"] == "stored", stored.text

    def task() -> dict[str, Any] | None:
        return next(
            (
                t
                for t in open_tasks(stack, kiosk["store_id"])
                if any(r["rating_id"] == rating_id for r in t["ratings"])
            ),
            None,
        )

    timeout = 3 * stack.demo["scheduler_interval_s"] + 5
    return wait_until(task, timeout=timeout, message=f"callback task of {rating_id}")


LATIN = re.compile(r"[A-Za-z]")


# Ids are not words: the store's and the staff members' (demo-store, demo-staff, ...).
IDS = re.compile(r"demo-[a-z0-9-]+")


def shown_text(page: Page, selector: str) -> list[str]:
    """Every visible piece of text under `selector` the page wrote itself: customer text
    (<bdi>), phone numbers and the language buttons (each names itself) left out."""
    return list(
        page.evaluate(
            """(selector) => {
                const out = [];
                const root = document.querySelector(selector);
                const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
                while (walker.nextNode()) {
                    const parent = walker.currentNode.parentElement;
                    if (parent.closest("bdi, .masked, .number, #languages")) continue;
                    if (!parent.checkVisibility()) continue;
                    const text = walker.currentNode.textContent.trim();
                    if (text) out.push(text);
                }
                return out;
            }""",
            selector,
        )
    )


def english_left(page: Page, selector: str) -> list[str]:
    return [t for t in shown_text(page, selector) if LATIN.search(IDS.sub("", t))]


def paired_kiosk(stack: Any, store_id: str) -> dict[str, Any]:
    """A kiosk of `store_id`, paired through the API with the admin's credential."""
    api = stack.demo["api_url"]
    created = requests.post(
        f"{api}/v1/stores/{store_id}/kiosks",
        headers={"Authorization": f"Bearer {stack.demo['admin_token']}"},
        json={"label": "0-10 test"},
        timeout=10,
    )
    assert created.status_code == 201, created.text
    paired = requests.post(
        f"{api}/v1/kiosks/pair", json={"pairing_code": created.json()["pairing_code"]}, timeout=10
    )
    assert paired.status_code == 201, paired.text
    return dict(paired.json())
