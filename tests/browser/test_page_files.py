"""The pages' files as the local pages server serves them (as the bucket upload does): every
file typed (ES modules load only as JavaScript) and under the CSP, `common/` to both pages;
the kiosk's service worker keeps every file its server lists, one entry a file."""

from __future__ import annotations

import json

import pytest
import requests

from devtools.pages import ROOT, api_origin, content_security_policy, offline_list, page_files
from tests.browser.conftest import wait_until

pytestmark = pytest.mark.browser


def test_every_page_file_is_served_typed_and_under_the_csp(stack):
    pages = stack.demo["kiosk_url"].split("/kiosk/")[0]
    csp = content_security_policy(
        api_origin(stack.demo["api_url"]), api_origin(stack.demo["cognito_endpoint"])
    )
    for path in page_files():
        key = path.relative_to(ROOT).as_posix()
        response = requests.get(f"{pages}/{key}", timeout=5)
        assert response.status_code == 200, key
        assert response.content == path.read_bytes(), key
        if path.suffix == ".js":
            assert response.headers["Content-Type"] == "text/javascript; charset=utf-8", key
        assert response.headers["Content-Security-Policy"] == csp, key
    offline = requests.get(f"{pages}/kiosk/files.json", timeout=5)
    assert offline.json() == json.loads(offline_list("kiosk"))
    assert requests.get(f"{pages}/devtools/pages.py", timeout=5).status_code == 404


def test_the_kiosk_service_worker_keeps_every_file_its_server_lists(stack, new_kiosk, open_kiosk):
    kiosk = new_kiosk()
    page = open_kiosk(kiosk["token"])
    page.wait_for_selector(".face")
    page.evaluate("navigator.serviceWorker.ready")
    wait_until(lambda: page.evaluate("!!navigator.serviceWorker.controller") or page.reload())
    page.reload()  # a load through the worker (with the kiosk's ?options) adds no copies
    page.wait_for_selector(".face")

    cached = page.evaluate(
        """async () => {
            const names = await caches.keys();
            const cache = await caches.open(names[0]);
            return { names, urls: (await cache.keys()).map((request) => request.url) };
        }"""
    )

    listed = json.loads(offline_list("kiosk"))["files"]
    base = stack.demo["kiosk_url"].split("#")[0].split("?")[0]
    expected = {requests.compat.urljoin(base, file) for file in listed}
    assert len(cached["names"]) == 1
    assert expected <= set(cached["urls"])
    assert not [url for url in cached["urls"] if "?" in url]
