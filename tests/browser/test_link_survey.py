"""The link survey (`/s/<store code>`, a printed QR code) on a phone in headless Chromium
against the local stack: the kiosk's page in link mode, no pairing and no token."""

from __future__ import annotations

import pytest

from tests.browser.conftest import KIOSK_OPTIONS, PHONE_VIEWPORT, screenshot, wait_until

pytestmark = pytest.mark.browser


@pytest.fixture
def phone(stack, browser):
    context = browser.new_context(viewport=PHONE_VIEWPORT, is_mobile=True, has_touch=True)
    sent: list[dict] = []
    context.on("request", lambda r: sent.append({"url": r.url, "headers": r.headers}))
    page = context.new_page()
    page.sent = sent
    yield page
    context.close()


def test_a_tap_on_the_phone_is_thanked_and_stored_as_a_link_rating(stack, phone):
    phone.goto(stack.demo["link_url"] + KIOSK_OPTIONS)
    phone.wait_for_selector("#screen-rate:not([hidden]) .face")
    assert phone.text_content("#store-name")  # the store's survey, by its code
    screenshot(phone, "link-1-rate")

    phone.tap('.face[data-score="4"]')
    phone.wait_for_selector("#screen-followup:not([hidden])")
    phone.tap('[data-reason="staff"]')
    phone.tap("#followup-next")
    phone.wait_for_selector("#screen-thanks:not([hidden])")
    screenshot(phone, "link-2-thanks")

    device_id = phone.evaluate("localStorage.getItem('device_id')")
    stored = wait_until(lambda: stack.ratings_of_kiosk(f"link-{device_id}"), message="rating")
    assert [(r["channel"], r["score"], r["reasons"]) for r in stored] == [("link", 4, ["staff"])]
    assert stored[0]["store_id"] == stack.demo["store_id"]
    # One customer per phone: the thank-you stays (a kiosk resets after `thanks` ms).
    phone.wait_for_timeout(1000)
    assert phone.is_visible("#screen-thanks")
    # No pairing and no token: nothing sent carries a credential.
    api_calls = [r for r in phone.sent if "/v1/" in r["url"]]
    assert api_calls
    assert all("/v1/link/" in r["url"] for r in api_calls)
    assert not any("authorization" in r["headers"] for r in api_calls)


def test_a_receipts_code_names_the_visit_its_rating_answers(stack, phone):
    phone.goto(stack.demo["link_url"] + KIOSK_OPTIONS + "&visit=R-2026-000417")
    phone.wait_for_selector("#screen-rate:not([hidden]) .face")

    phone.tap('.face[data-score="5"]')
    phone.wait_for_selector("#screen-followup:not([hidden])")
    phone.tap("#followup-next")
    phone.wait_for_selector("#screen-thanks:not([hidden])")

    device_id = phone.evaluate("localStorage.getItem('device_id')")
    stored = wait_until(lambda: stack.ratings_of_kiosk(f"link-{device_id}"), message="rating")
    assert [(r["score"], r["visit_ref"]) for r in stored] == [(5, "R-2026-000417")]
    assert "same_visit" not in stored[0]  # the visit's first answer: it counts
