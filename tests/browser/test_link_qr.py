"""The admin screens' QR code of a store's link survey (staff/admin/link_qr.js), in headless
Chromium against the local stack: the address it encodes and printing it alone."""

from __future__ import annotations

import pytest

from tests.browser.conftest import PHONE_VIEWPORT, screenshot
from tests.browser.staff_page import sign_in_with_password

pytestmark = pytest.mark.browser


def test_the_admin_sees_and_prints_the_qr_code_of_the_store_link(stack, browser):
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    page = context.new_page()
    page.goto(stack.demo["staff_url"])
    page.wait_for_selector("#password-form:not([hidden])")
    sign_in_with_password(page, stack.demo["admin_email"], stack.demo["admin_password"])
    page.wait_for_selector("#session:not([hidden])")
    page.click("#admin-open")
    page.wait_for_selector("#admin:not([hidden]) #admin-panel")
    store = page.locator(f'[data-store-id="{stack.demo["store_id"]}"]')
    store.get_by_role("button", name="Manage").click()
    page.get_by_role("tab", name="QR code").click()
    # Not wait_for_function: its string predicate is an eval, which the page's CSP refuses.
    page.wait_for_selector("#link-qr-image[src^='data:image/gif']")
    page.evaluate("document.getElementById('link-qr-image').decode()")
    screenshot(page, "admin-link-qr")

    # The address printed under the code is the one make run gives for the demo store.
    assert page.text_content("#link-url") == stack.demo["link_url"]
    source = page.get_attribute("#link-qr-image", "src")
    assert source.startswith("data:image/gif;base64,")
    width, height = page.evaluate(
        "[document.getElementById('link-qr-image').naturalWidth,"
        " document.getElementById('link-qr-image').naturalHeight]"
    )
    modules = width // 8 - 8  # 8 px a module, a 4-module quiet zone on each side
    assert width == height
    assert width % 8 == 0
    assert (modules - 17) % 4 == 0  # a QR version's size: 21, 25, 29... modules
    assert 21 <= modules <= 57
    assert page.get_attribute("#link-qr-image", "alt").startswith("QR code of the ")

    # Print: only the sheet shows (the body's print-qr class, while the dialog is open).
    page.evaluate("window.print = () => { window.printedWith = document.body.className; }")
    page.get_by_role("button", name="Print the QR code").click()
    assert "print-qr" in page.evaluate("window.printedWith")
    page.emulate_media(media="print")
    assert page.is_visible("#link-qr-image")
    context.close()

    # The code's address opens the survey on a phone.
    phone = browser.new_context(viewport=PHONE_VIEWPORT, is_mobile=True)
    survey = phone.new_page()
    survey.goto(stack.demo["link_url"])
    survey.wait_for_selector("#screen-rate:not([hidden]) .face")
    phone.close()
