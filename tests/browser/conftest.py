"""Browser tests: real headless Chromium (Debian's) driven by Playwright, against the
local stack that `make run` starts."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qsl, urlencode

import pytest
import requests
from playwright.sync_api import Browser, Page, sync_playwright

from devtools.chromium import launch
from devtools.stack_process import ROOT, LocalStack
from tests.polling import wait_until

SCREENSHOTS = ROOT / "build" / "screenshots"
# Fast timings so the tests do not wait out real idle timeouts.
# batch=1: a rating is sent at the next sync, as it was before ratings waited to share a
# request (tests/browser/test_kiosk.py has the minute's wait, shortened).
KIOSK_OPTIONS = "?idle=1500&thanks=600&sync=500&survey=1000&batch=1"
PHONE_VIEWPORT = {"width": 390, "height": 844}


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    running = LocalStack(tmp_path_factory.mktemp("stack"))
    running.start()
    yield running
    running.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = launch(playwright)
        yield chromium
        chromium.close()


@pytest.fixture
def new_kiosk(stack: LocalStack) -> Callable[[], dict[str, Any]]:
    """Pair a fresh kiosk of the demo store through the API: {kiosk_id, token, ...}."""

    def pair() -> dict[str, Any]:
        api, staff = stack.demo["api_url"], stack.demo["staff_token"]
        created = requests.post(
            f"{api}/v1/stores/{stack.demo['store_id']}/kiosks",
            headers={"Authorization": f"Bearer {staff}"},
            json={"label": "browser test"},
            timeout=10,
        ).json()
        paired = requests.post(
            f"{api}/v1/kiosks/pair", json={"pairing_code": created["pairing_code"]}, timeout=10
        ).json()
        return paired | {"pairing_code": created["pairing_code"]}

    return pair


@pytest.fixture
def open_kiosk(stack: LocalStack, browser: Browser) -> Iterator[Callable[..., Page]]:
    contexts = []

    def open_page(
        token: str | None, viewport: dict[str, int] | None = None, options: str = ""
    ) -> Page:
        context = browser.new_context(viewport=viewport or {"width": 1280, "height": 800})
        contexts.append(context)
        page = context.new_page()
        pages_url = stack.demo["kiosk_url"].split("#")[0]
        fragment = f"#token={token}" if token else ""
        # `options` ("&name=ms") override KIOSK_OPTIONS: the page reads a name's first value.
        query = dict(parse_qsl(KIOSK_OPTIONS[1:])) | dict(parse_qsl(options.lstrip("&")))
        page.goto(f"{pages_url}?{urlencode(query)}{fragment}")
        return page

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def open_staff(stack: LocalStack, browser: Browser) -> Iterator[Callable[..., Page]]:
    """A staff page in a fresh browser context (its own sessionStorage: its own sign-in)."""
    contexts = []

    def open_page(
        fragment: str = "", viewport: dict[str, int] | None = None, query: str = ""
    ) -> Page:
        context = browser.new_context(viewport=viewport or PHONE_VIEWPORT)
        contexts.append(context)
        page = context.new_page()
        pages_url, _, staff_fragment = stack.demo["staff_url"].partition("#")
        page.goto(f"{pages_url}{query}#{staff_fragment}{fragment}")
        page.wait_for_selector("#screen-signin:not([hidden])")
        return page

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def put_stack_store(stack: LocalStack, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Writes a store into the running stack's table through the store layer, with what no
    route sets (a survey as a model, a chat webhook): `put_stack_store(store)`."""
    from chalicelib.storage import stores
    from tests.conftest import reset_caches

    def put(store: Any) -> None:
        monkeypatch.setenv("STOREPULSE_TABLE_NAME", stack.demo["table_name"])
        monkeypatch.setenv("STOREPULSE_DYNAMODB_ENDPOINT", stack.demo["dynamodb_endpoint"])
        reset_caches()
        stores.put_store(store)

    yield put
    reset_caches()  # the next test reads its own settings again


def screenshot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def wait_on_page(
    page: Page, condition: Callable[[], Any], timeout: float = 15, message: str = ""
) -> Any:
    """`wait_until` for what the page's route handlers change: Playwright runs them only while
    it waits, so the polls wait through the page."""
    return wait_until(condition, timeout, message, sleep=lambda s: page.wait_for_timeout(s * 1000))


def screen(page: Page) -> str:
    return str(page.locator(".screen:not([hidden])").get_attribute("id")).removeprefix("screen-")
