"""The staff page's admin screens (staff/admin/) in headless Chromium against the local
stack: issue 14's done-when flow (an admin sets up a store, its 0-10 survey in two
languages, a staff member and a kiosk; the kiosk pairs and shows the survey; the new staff
member signs in and sees only their store; a manager sees their region), and each screen's
own behaviour."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests
from playwright.sync_api import Page

from devtools.pages import page_files, transferred_size
from devtools.stack_process import ROOT
from tests.browser.conftest import screen, screenshot, wait_on_page, wait_until
from tests.browser.staff_page import paired_kiosk, sign_in_with_password

pytestmark = pytest.mark.browser

NPS_QUESTION = {
    "en": "How likely are you to recommend us?",
    "zh-CN": "您有多大可能向朋友推荐我们？",
}
REASONS = {"queue": ("Queue", "排队"), "advice": ("Advice", "建议")}


@pytest.fixture
def open_page(stack: Any, browser: Any) -> Iterator[Callable[..., Page]]:
    """A staff page (`/staff/`) or kiosk page in a fresh context: its own storage, its own
    sign-in."""
    contexts = []

    def open_one(path: str = "staff/", width: int = 1100) -> Page:
        context = browser.new_context(viewport={"width": width, "height": 900})
        contexts.append(context)
        page = context.new_page()
        page.goto(f"{pages_url(stack)}/{path}")
        return page

    yield open_one
    for context in contexts:
        context.close()


def pages_url(stack: Any) -> str:
    return stack.demo["staff_url"].split("/staff/")[0]


def api(stack: Any, method: str, path: str, body: Any = None) -> requests.Response:
    """The API as the demo admin (the local HS256 token)."""
    return requests.request(
        method,
        f"{stack.demo['api_url']}{path}",
        headers={"Authorization": f"Bearer {stack.demo['admin_token']}"},
        json=body,
        timeout=15,
    )


def signed_in(page: Page, email: str, password: str) -> None:
    page.wait_for_selector("#password-form:not([hidden])")
    sign_in_with_password(page, email, password)
    page.wait_for_selector("#session:not([hidden])")


def open_admin(page: Page, tab: str | None = None) -> None:
    page.click("#admin-open")
    page.wait_for_selector("#admin:not([hidden]) #admin-panel")
    if tab:
        page.click(f'[data-admin-tab="{tab}"]')


def invitation_password(stack: Any, email: str) -> str:
    """The temporary password the local stack's invitation (topic "invitations") carries."""

    def find() -> str | None:
        log = Path(stack.demo["notifications_log"])
        for line in log.read_text().splitlines() if log.exists() else []:
            entry = json.loads(line)
            if entry["topic"].endswith("invitations") and entry["attributes"].get("email") == email:
                return re.search(r"temporary password (\S+)", entry["message"]).group(1)
        return None

    return wait_until(find, timeout=10, message=f"the invitation of {email}")


def rate_with_callback(stack: Any, kiosk_token: str, score: int, phone: str) -> str:
    """A kiosk rating asking for a callback, with no reasons."""
    rating_id = str(uuid.uuid4())
    now = datetime.now(UTC).isoformat()
    answer = requests.post(
        f"{stack.demo['api_url']}/v1/kiosk/ratings",
        headers={"Authorization": f"Bearer {kiosk_token}"},
        json={
            "sent_at": now,
            "ratings": [
                {
                    "rating_id": rating_id,
                    "score": score,
                    "tapped_at": now,
                    "reasons": [],
                    "locale": "en",
                    "callback": {"phone": phone, "name": None, "consent": True},
                }
            ],
        },
        timeout=10,
    )
    assert answer.json()["results"][0]["status"] == "stored", answer.text
    return rating_id


def open_task_of(stack: Any, store_id: str, rating_id: str) -> dict[str, Any]:
    def task() -> dict[str, Any] | None:
        tasks = api(stack, "GET", f"/v1/callbacks?store_id={store_id}&status=open").json()
        return next(
            (t for t in tasks["tasks"] if any(r["rating_id"] == rating_id for r in t["ratings"])),
            None,
        )

    return wait_until(task, timeout=3 * stack.demo["scheduler_interval_s"] + 5, message="task")


def create_store_on_page(page: Page, store_id: str, region: str) -> None:
    form = page.locator("#store-create")
    form.get_by_label("Store id").fill(store_id)
    form.get_by_label("Name").fill(f"Test {store_id}")
    form.get_by_label("Time zone").fill("Europe/Berlin")
    form.get_by_label("Country").fill("DE")
    form.get_by_label("Region").fill(region)
    for day in ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday"):
        form.get_by_label(f"{day} opens").fill("8")
        form.get_by_label(f"{day} closes").fill("20")
    form.get_by_role("button", name="Create store").click()
    page.wait_for_selector("#survey-form")


def fill_nps_survey(page: Page) -> None:
    form = page.locator("#survey-form")
    form.get_by_label("Question in English").fill(NPS_QUESTION["en"])
    form.get_by_label("Question in 中文").fill(NPS_QUESTION["zh-CN"])
    form.get_by_label("0 to 10 (recommend)").check()
    while form.locator("[data-reason]").count():  # the default survey's reasons go
        form.locator("[data-reason]").first.get_by_role("button", name="Remove reason").click()
    for reason, (english, chinese) in REASONS.items():
        form.get_by_role("button", name="Add a reason").click()
        row = form.locator("[data-reason]").last
        row.get_by_label("Reason id").fill(reason)
        row.get_by_label("Label in English").fill(english)
        row.get_by_label("Label in 中文").fill(chinese)
    form.get_by_label("Offer a callback at or below this score").fill("6")


def test_an_admin_sets_up_a_store_its_staff_and_a_kiosk_that_shows_the_new_survey(stack, open_page):
    demo = stack.demo
    store_id = f"t-{uuid.uuid4().hex[:8]}"
    elsewhere = f"t-{uuid.uuid4().hex[:8]}"  # a store of another region
    created = api(
        stack,
        "POST",
        "/v1/stores",
        {
            "store_id": elsewhere,
            "name": "East",
            "timezone": "UTC",
            "country": "US",
            "region": "east",
        },
    )
    assert created.status_code == 201, created.text

    # The admin signs in and creates the store, in the demo manager's region.
    admin = open_page()
    signed_in(admin, demo["admin_email"], demo["admin_password"])
    assert admin.text_content("#admin-open") == "Admin"
    open_admin(admin)
    admin.wait_for_selector(f'#admin-store-list [data-store-id="{elsewhere}"]')
    create_store_on_page(admin, store_id, "west")
    assert admin.text_content(".admin-stores .notice") == f"Store {store_id} created."
    stored = api(stack, "GET", f"/v1/stores/{store_id}").json()
    where = (stored["region"], stored["timezone"], stored["country"])
    assert where == ("west", "Europe/Berlin", "DE")
    assert stored["opening_hours"] == {day: [8, 20] for day in ("mon", "tue", "wed", "thu", "fri")}

    # Its survey: 0 to 10, the question and reasons in English and Chinese.
    assert admin.text_content("#survey-version") == "Version 1"
    fill_nps_survey(admin)
    screenshot(admin, "admin-1-survey")
    admin.get_by_role("button", name="Save survey").click()
    wait_on_page(admin, lambda: admin.text_content("#survey-version") == "Version 2")
    assert "version 2" in admin.text_content("#survey-form .notice")
    survey = api(stack, "GET", f"/v1/stores/{store_id}/survey").json()
    assert survey["version"] == 2
    assert survey["scale"] == {"kind": "nps", "min": 0, "max": 10}
    assert survey["question"] == NPS_QUESTION
    assert survey["reasons"] == list(REASONS)
    assert survey["reason_labels"]["zh-CN"] == {k: v[1] for k, v in REASONS.items()}
    assert survey["callback_at_or_below"] == 6

    # A staff member of the store is invited.
    email = f"{store_id}@example.com"
    open_admin(admin, "people")
    invite = admin.locator("#invite-form")
    invite.get_by_label("E-mail").fill(email)
    invite.get_by_label(f"Test {store_id} ({store_id})").check()
    invite.get_by_role("button", name="Send invitation").click()
    wait_on_page(admin, lambda: admin.locator(f'#admin-people-list [data-email="{email}"]').count())
    assert admin.text_content("#admin-panel .notice") == f"Invitation sent to {email}."

    # A pairing code, shown large with its expiry.
    open_admin(admin, "stores")
    admin.locator(f'[data-store-id="{store_id}"]').get_by_role("button", name="Manage").click()
    admin.get_by_role("tab", name="Kiosks").click()
    admin.locator("#pairing-form").get_by_label("Where the kiosk stands (optional)").fill("Exit")
    admin.get_by_role("button", name="Issue a pairing code").click()
    code = admin.locator("#pairing-code")
    code.wait_for()
    assert re.fullmatch(r"\d{6}", code.text_content())
    assert float(code.evaluate("n => parseFloat(getComputedStyle(n).fontSize)")) >= 48
    assert re.match(r"Valid until .+ \(\d+ minutes?\)\.", admin.text_content("#pairing-expiry"))
    admin.wait_for_selector('#admin-kiosk-list li:has-text("Exit")')
    screenshot(admin, "admin-2-pairing-code")

    # A kiosk pairs with the code and shows the new survey.
    kiosk = open_page("kiosk/")
    kiosk.wait_for_selector("#screen-pair:not([hidden])")
    for digit in code.text_content():
        kiosk.click(f'#pair-keypad [data-key="{digit}"]')
    kiosk.click("#pair-button")
    kiosk.wait_for_selector(".face")
    assert kiosk.text_content("#question") == NPS_QUESTION["en"]
    assert kiosk.locator(".face").count() == 11
    screenshot(kiosk, "admin-3-kiosk")
    # The admin's page follows: the code gives way to the paired kiosk.
    admin.wait_for_selector("#pairing-done")
    assert admin.text_content("#pairing-done") == "Kiosk Exit is paired."
    assert "paired" in admin.text_content('#admin-kiosk-list li:has-text("Exit")')
    kiosk_token = kiosk.evaluate("localStorage.getItem('token')")

    # An unhappy customer of the new store, and one of the demo store. A score of 1 with no
    # reasons: the stack's scheduler (another process) may still hold the store as it was
    # before the save (version 1's threshold of 2) for its store cache's life.
    ours_rating = rate_with_callback(stack, kiosk_token, 1, "+4915123450001")
    ours = open_task_of(stack, store_id, ours_rating)
    theirs = open_task_of(
        stack, demo["store_id"], rate_with_callback(stack, demo["kiosk_token"], 1, "+14155550177")
    )

    # The staff member signs in with the invitation's password, sets their own, and sees
    # only their store's tasks.
    staff = open_page(width=390)
    staff.wait_for_selector("#password-form:not([hidden])")
    sign_in_with_password(staff, email, invitation_password(stack, email))
    staff.wait_for_selector("#new-password-form:not([hidden])")
    new_password = f"Pw-{uuid.uuid4().hex[:12]}Aa1!"
    staff.fill("#new-password", new_password)
    staff.fill("#new-password-again", new_password)
    staff.click("#new-password-form button[type=submit]")
    staff.wait_for_selector(f'.task[data-task-id="{ours["task_id"]}"]')
    assert staff.text_content("#store-label") == f"Store {store_id}"
    assert staff.locator(f'.task[data-task-id="{theirs["task_id"]}"]').count() == 0
    assert staff.text_content("#admin-open") == "My notifications"
    screenshot(staff, "admin-4-new-staff")

    # A manager sees the region: the new store and the demo stores, not the other region's.
    manager = open_page()
    signed_in(manager, demo["manager_email"], demo["manager_password"])
    manager.wait_for_selector(f'#store-choices [data-store="{store_id}"]')  # the store choice
    assert manager.locator(f'#store-choices [data-store="{elsewhere}"]').count() == 0
    open_admin(manager)
    manager.wait_for_selector(f'#admin-store-list [data-store-id="{store_id}"]')
    listed = manager.locator("#admin-store-list [data-store-id]").evaluate_all(
        "items => items.map(i => i.dataset.storeId)"
    )
    assert {store_id, demo["store_id"], demo["other_store_id"]} <= set(listed)
    assert elsewhere not in listed
    assert screen(manager) == "admin"


def new_store(stack: Any, region: str = "west") -> str:
    store_id = f"t-{uuid.uuid4().hex[:8]}"
    body = {"store_id": store_id, "name": f"Test {store_id}", "timezone": "UTC", "country": "US"}
    created = api(stack, "POST", "/v1/stores", body | {"region": region})
    assert created.status_code == 201, created.text
    return store_id


def manage(page: Page, store_id: str, section: str) -> None:
    open_admin(page, "stores")
    page.locator(f'[data-store-id="{store_id}"]').get_by_role("button", name="Manage").click()
    page.get_by_role("tab", name=section).click()


def test_errors_are_shown_by_their_field_or_by_the_action(stack, open_page):
    page = open_page()
    signed_in(page, stack.demo["admin_email"], stack.demo["admin_password"])
    open_admin(page)
    form = page.locator("#store-create")
    store_id = form.get_by_label("Store id")
    store_id.fill("Not An Id")
    form.get_by_role("button", name="Create store").click()
    assert store_id.get_attribute("aria-invalid") == "true"
    assert page.evaluate("document.activeElement.name") == "store_id"
    described = store_id.get_attribute("aria-describedby").split()
    errors = [page.text_content(f"#{id}") for id in described]
    assert "Use lower-case letters, digits and dashes only (2 to 63)." in errors
    assert form.get_by_label("Name").get_attribute("aria-invalid") == "true"

    # The API refuses an id that exists: its message is shown by the button.
    store_id.fill(stack.demo["store_id"])
    form.get_by_label("Name").fill("Again")
    form.get_by_label("Time zone").fill("UTC")
    form.get_by_label("Country").fill("US")
    form.get_by_role("button", name="Create store").click()
    action = form.locator('[data-error-for=""]')
    wait_on_page(page, lambda: action.text_content(), message="the 409 shown")
    assert action.text_content().startswith("Not done: ")
    assert store_id.get_attribute("aria-invalid") is None
    screenshot(page, "admin-5-errors")

    # A field only the API checks (the country code): its `details` mark that field.
    country = form.get_by_label("Country")
    store_id.fill("api-checked-country")
    country.fill("ZZ")
    form.get_by_role("button", name="Create store").click()
    wait_on_page(page, lambda: country.get_attribute("aria-invalid"), message="country marked")
    described = country.get_attribute("aria-describedby").split()
    said = [page.text_content(f"#{id}") for id in described]
    assert "country must be an ISO 3166 alpha-2 code such as US or GB" in said, said


def test_a_store_is_edited(stack, open_page):
    store_id = new_store(stack)
    page = open_page()
    signed_in(page, stack.demo["admin_email"], stack.demo["admin_password"])
    manage(page, store_id, "Details")
    form = page.locator("#store-edit")
    assert form.get_by_label("Name").input_value() == f"Test {store_id}"
    form.get_by_label("Name").fill("Renamed")
    form.get_by_label("Time zone").fill("Asia/Shanghai")
    form.get_by_label("Country").fill("cn")
    form.get_by_label("Saturday opens").fill("9")
    form.get_by_label("Saturday closes").fill("18")
    form.get_by_label("Sunday opens").fill("10")  # half a day: refused by the page
    form.get_by_role("button", name="Save changes").click()
    assert form.locator('[data-error-for="opening_hours"]').text_content() == (
        "Closing must come after opening (hours 0 to 24)."
    )
    form.get_by_label("Sunday opens").fill("")
    form.get_by_role("button", name="Save changes").click()
    wait_on_page(page, lambda: page.text_content(".admin-store-panel .notice") == "Store saved.")
    assert page.text_content("#admin-store-title") == f"Renamed ({store_id})"
    stored = api(stack, "GET", f"/v1/stores/{store_id}").json()
    assert (stored["name"], stored["timezone"], stored["country"]) == (
        "Renamed",
        "Asia/Shanghai",
        "CN",
    )
    assert stored["opening_hours"] == {"sat": [9, 18]}
    assert stored["region"] == "west"


def test_the_admin_screens_follow_the_language_and_keep_what_is_typed(stack, open_page):
    page = open_page()
    signed_in(page, stack.demo["admin_email"], stack.demo["admin_password"])
    open_admin(page)
    page.locator("#store-create").get_by_label("Store id").fill("typed-id")
    page.click('#languages [data-locale="zh-CN"]')
    wait_on_page(page, lambda: page.text_content("#admin-title") == "管理")
    assert page.text_content('[data-admin-tab="people"]') == "人员"
    assert page.text_content("#store-create-title") == "新建门店"
    assert page.text_content("#admin-open") == "管理"
    assert page.locator("#store-create").get_by_label("门店编号").input_value() == "typed-id"
    assert "Monday" not in page.inner_text("#admin")
    assert "星期一" in page.inner_text("#admin")
    screenshot(page, "admin-6-chinese")
    page.click('#languages [data-locale="en"]')
    wait_on_page(page, lambda: page.text_content("#admin-title") == "Administration")


def test_the_survey_preview_hands_the_draft_to_the_kiosk_page(stack, open_page):
    store_id = new_store(stack)
    page = open_page()
    signed_in(page, stack.demo["admin_email"], stack.demo["admin_password"])
    manage(page, store_id, "Survey")
    form = page.locator("#survey-form")
    form.get_by_label("Question in English").fill("Did we get it right?")
    form.get_by_label("Stars, 1 to 5").check()
    with page.context.expect_page() as opened:
        page.get_by_role("button", name="Preview on a kiosk").click()
    preview = opened.value
    preview.wait_for_load_state()
    assert preview.url.endswith("/kiosk/?preview")
    draft = json.loads(preview.evaluate("localStorage.getItem('storepulse.preview')"))
    assert draft["question"]["en"] == "Did we get it right?"
    assert draft["scale"] == {"kind": "stars", "min": 1, "max": 5}
    assert draft["store_name"] == f"Test {store_id}"
    preview.wait_for_selector(".face")
    assert preview.text_content("#question") == "Did we get it right?"
    assert preview.locator(".face").count() == 5
    screenshot(preview, "admin-9-preview")
    # Nothing was saved.
    assert api(stack, "GET", f"/v1/stores/{store_id}/survey").json()["version"] == 1


def test_a_scale_change_the_api_refuses_is_said_by_the_save_button(stack, open_page):
    store_id = new_store(stack)
    code = api(stack, "POST", f"/v1/stores/{store_id}/kiosks", {}).json()["pairing_code"]
    kiosk = requests.post(
        f"{stack.demo['api_url']}/v1/kiosks/pair", json={"pairing_code": code}, timeout=10
    ).json()
    rate_with_callback(stack, kiosk["token"], 1, "+14155550166")  # the store has a rating
    page = open_page()
    signed_in(page, stack.demo["admin_email"], stack.demo["admin_password"])
    manage(page, store_id, "Survey")
    form = page.locator("#survey-form")
    form.get_by_label("0 to 10 (recommend)").check()
    assert form.get_by_label("Offer a callback at or below this score").input_value() == "6"
    form.get_by_role("button", name="Save survey").click()
    action = form.locator('[data-error-for=""]')
    wait_on_page(page, lambda: action.text_content(), message="the 409 said")
    assert action.text_content().startswith("Not done: the scale cannot change")
    assert page.text_content("#survey-version") == "Version 1"


def test_kiosks_are_listed_and_revoked_and_a_credential_is_shown_once(stack, open_page):
    store_id = new_store(stack)
    page = open_page()
    signed_in(page, stack.demo["admin_email"], stack.demo["admin_password"])
    manage(page, store_id, "Kiosks")
    page.get_by_role("button", name="Issue a pairing code").click()
    code = page.locator("#pairing-code")
    code.wait_for()
    paired = requests.post(
        f"{stack.demo['api_url']}/v1/kiosks/pair",
        json={"pairing_code": code.text_content()},
        timeout=10,
    ).json()
    kiosk = page.locator(f'#admin-kiosk-list [data-kiosk-id="{paired["kiosk_id"]}"]')
    wait_on_page(page, lambda: "paired" in kiosk.text_content(), message="listed as paired")
    revoke = kiosk.get_by_role("button", name=re.compile("^Revoke"))
    revoke.click()
    assert "tap again to confirm" in revoke.text_content()
    revoke.click()
    wait_on_page(page, lambda: "revoked" in kiosk.text_content(), message="revoked")
    assert kiosk.get_by_role("button").count() == 0

    open_admin(page, "integrations")
    form = page.locator("#integration-form")
    form.get_by_label("System name").fill(f"tills {store_id}")
    form.get_by_label(f"Test {store_id} ({store_id})").check()
    form.get_by_role("button", name="Issue credential").click()
    token = page.locator("#integration-token")
    token.wait_for()
    secret = token.input_value()
    assert len(secret) > 20
    item = page.locator("#admin-integration-list li", has_text=f"tills {store_id}")
    item.wait_for()
    assert store_id in item.text_content()
    screenshot(page, "admin-7-credential")
    page.click('[data-admin-tab="people"]')
    page.click('[data-admin-tab="integrations"]')
    item.wait_for()
    assert secret not in page.content()  # shown once: gone once the screen changes
    item.get_by_role("button", name=re.compile("^Revoke")).click()
    item.get_by_role("button", name=re.compile("^Revoke")).click()
    wait_on_page(page, lambda: "revoked" in item.text_content(), message="credential revoked")
    listed = api(stack, "GET", "/v1/integrations").json()["integrations"]
    assert next(i for i in listed if i["name"] == f"tills {store_id}")["revoked_at"]


def test_kiosk_health_shows_on_the_store_and_in_the_fleet_most_trouble_first(stack, open_page):
    store_id = new_store(stack)
    beating, waiting = (
        paired_kiosk(stack, store_id),
        api(stack, "POST", f"/v1/stores/{store_id}/kiosks", {"label": "Door"}).json(),
    )
    beat = {"queue_length": 7, "last_sync_at": None, "app_version": "1.2.3", "battery": 0.42}
    answer = requests.post(
        f"{stack.demo['api_url']}/v1/kiosk/heartbeat",
        headers={"Authorization": f"Bearer {beating['token']}"},
        json=beat,
        timeout=10,
    )
    assert answer.status_code == 204

    page = open_page()
    signed_in(page, stack.demo["admin_email"], stack.demo["admin_password"])
    manage(page, store_id, "Kiosks")
    item = page.locator(f'#admin-kiosk-list [data-kiosk-id="{beating["kiosk_id"]}"]')
    wait_on_page(page, lambda: "last seen" in item.text_content(), message="last seen")
    assert "sending" in item.text_content()
    open_admin(page, "fleet")
    rows = page.locator("#fleet-list li[data-kiosk-id]")
    ours = page.locator(f'#fleet-list [data-kiosk-id="{beating["kiosk_id"]}"]')
    ours.wait_for()
    fleet = api(stack, "GET", "/v1/kiosks").json()["kiosks"]

    assert [row.get_attribute("data-kiosk-id") for row in rows.all()] == [
        k["kiosk_id"] for k in fleet
    ]
    assert f"· {store_id}" in ours.text_content()
    assert "7 queued · battery 42% · v1.2.3" in ours.text_content()
    pending = page.locator(f'#fleet-list [data-kiosk-id="{waiting["kiosk_id"]}"]')
    assert pending.get_attribute("data-health") == "never_seen"
    page.click('#languages [data-locale="zh-CN"]')
    wait_on_page(page, lambda: "待发送 7 · 电量 42%" in ours.text_content(), message="Chinese")


def test_a_person_is_invited_for_a_store_found_by_name_and_removed(stack, open_page):
    store_id = new_store(stack)
    while len(api(stack, "GET", "/v1/stores").json()["stores"]) < 8:  # a search box from 8
        new_store(stack)
    email = f"remove-{store_id}@example.com"
    page = open_page()
    signed_in(page, stack.demo["admin_email"], stack.demo["admin_password"])
    open_admin(page, "people")
    form = page.locator("#invite-form")
    form.get_by_label("Find a store").fill(store_id)
    assert form.locator(".admin-checklist .admin-check:visible").count() == 1
    form.get_by_label("E-mail").fill(email)
    form.get_by_role("button", name="Send invitation").click()  # no store chosen
    assert (
        page.text_content('#invite-form [data-error-for="stores"]') == "Choose at least one store."
    )
    form.get_by_label(f"Test {store_id} ({store_id})").check()
    form.get_by_role("button", name="Send invitation").click()
    person = page.locator(f'#admin-people-list [data-email="{email}"]')
    person.wait_for()
    remove = person.get_by_role("button", name=f"Remove {email}")
    remove.click()
    remove.click()
    wait_on_page(page, lambda: person.count() == 0, message="removed from the list")
    assert page.text_content("#admin-panel .notice").startswith(f"{email} removed")
    people = api(stack, "GET", "/v1/staff").json()["staff"]
    assert email not in [p["email"] for p in people]


def test_a_csv_upload_reports_each_row_and_a_second_upload_changes_nothing(
    stack, open_page, tmp_path
):
    ids = [f"t-{uuid.uuid4().hex[:8]}" for _ in range(2)]
    csv = tmp_path / "stores.csv"
    csv.write_text(
        "store_id,name,timezone,country,region,opening_hours,staff_emails,manager_emails\n"
        f"{ids[0]},First,Europe/Berlin,DE,west,mon-fri 08-20,{ids[0]}@example.com,\n"
        "bad-row,Second,Not/AZone,DE,west,,,\n"
        f'{ids[1]},"Third, with a comma",UTC,US,east,,,\n'
    )
    page = open_page()
    signed_in(page, stack.demo["admin_email"], stack.demo["admin_password"])
    open_admin(page, "onboarding")
    for run, expected in (
        (1, "2 created, 0 already there, 1 with errors."),
        (2, "0 created, 2 already there, 1 with errors."),
    ):
        page.set_input_files("#onboarding-form input[type=file]", str(csv))
        page.get_by_role("button", name="Upload").click()
        wait_on_page(page, lambda: page.text_content("#onboarding-summary"), message=f"run {run}")
        assert page.text_content("#onboarding-summary") == expected
        bad = page.locator('#onboarding-results [data-line="3"]')
        assert "error" in bad.text_content()
        assert page.locator("#onboarding-results li").count() == 3
        invited = page.text_content('#onboarding-results [data-line="2"] .meta')
        assert invited == f"{ids[0]}@example.com: " + (
            "invited" if run == 1 else "already has a sign-in"
        )
    assert api(stack, "GET", f"/v1/stores/{ids[1]}").json()["name"] == "Third, with a comma"
    screenshot(page, "admin-8-upload")


def test_a_large_csv_goes_in_parts_the_api_takes(stack, open_page):
    """120 stores of two lines each (a quoted line break) and two e-mails each: parts of 25
    records (50 e-mails), each starting at its first record's line of the file."""
    page = open_page()
    page.wait_for_selector("#screen-signin:not([hidden])")
    header = "store_id,name,timezone,country,region,opening_hours,staff_emails,manager_emails"
    parts = page.evaluate(
        r"""async (header) => {
            const { csvParts } = await import("./admin/onboarding.js");
            const rows = Array.from({ length: 120 }, (_, i) =>
                `s-${i},"Store\n${i}",UTC,US,west,,a${i}@example.com;b${i}@example.com,`);
            return csvParts([header, ...rows, "", ""].join("\r\n"));
        }""",
        header,
    )
    assert [(p["first_line"], p["rows"]) for p in parts] == [
        (2, 25),
        (52, 25),
        (102, 25),
        (152, 25),
        (202, 20),
    ]
    for part in parts:
        lines = part["csv"].split("\n")
        assert lines[0].startswith("store_id,name,")
        assert lines[1].startswith(f"s-{(part['first_line'] - 2) // 2},")
        assert part["csv"].count("@") <= 50


def test_staff_choose_their_own_notifications(stack, open_page):
    page = open_page(width=390)
    signed_in(page, stack.demo["staff_email"], stack.demo["staff_password"])
    assert page.text_content("#admin-open") == "My notifications"
    open_admin(page)
    assert page.locator("#admin [role=tablist]").is_hidden()  # staff have this screen only
    form = page.locator("#notifications-form")
    form.wait_for()
    form.get_by_label("By e-mail").check()
    form.get_by_label("By SMS").check()
    form.get_by_label("Mobile number").fill("4155550123")
    form.get_by_role("button", name="Save").click()
    assert form.locator('[data-error-for="sms"]').text_content() == (
        "Type the number with + and the country code."
    )
    form.get_by_label("Mobile number").fill("+1 415 555 0123")
    form.get_by_role("button", name="Save").click()
    wait_on_page(page, lambda: form.locator(".notice").text_content() == "Saved.")
    token = page.evaluate("sessionStorage.getItem('token')")
    mine = requests.get(
        f"{stack.demo['api_url']}/v1/staff/me/notifications",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    ).json()
    assert mine == {"email": True, "sms": "+14155550123"}
    form.get_by_label("By e-mail").uncheck()
    form.get_by_label("By SMS").uncheck()
    form.get_by_role("button", name="Save").click()
    wait_on_page(page, lambda: form.get_by_label("Mobile number").is_hidden())


def test_a_manager_is_offered_their_region_and_staff_invitations_only(stack, open_page):
    page = open_page()
    signed_in(page, stack.demo["manager_email"], stack.demo["manager_password"])
    open_admin(page)
    assert page.locator("[data-admin-tab]").evaluate_all("t => t.map(b => b.dataset.adminTab)") == [
        "stores",
        "fleet",
        "people",
        "integrations",
        "notifications",
    ]
    page.focus('[data-admin-tab="stores"]')
    page.keyboard.press("ArrowLeft")  # the arrow keys move between the tabs, round
    assert page.get_attribute('[data-admin-tab="notifications"]', "aria-selected") == "true"
    assert page.evaluate("document.activeElement.dataset.adminTab") == "notifications"
    page.keyboard.press("ArrowRight")
    assert page.get_attribute('[data-admin-tab="stores"]', "aria-selected") == "true"
    region = page.locator("#store-create").get_by_label("Region")
    assert region.evaluate("s => [...s.options].map(o => o.value)") == ["west"]
    manage(page, stack.demo["store_id"], "Details")
    assert page.locator("#store-edit").get_by_label("Region").get_attribute("readonly") == ""
    open_admin(page, "people")
    page.wait_for_selector("#invite-form")
    roles = page.locator('#invite-form input[name="role"]')
    assert roles.evaluate_all("r => r.map(i => i.value)") == ["staff"]


def test_the_staff_page_stays_in_its_budget():
    # The staff page with its admin screens, both languages, counted as CloudFront sends them.
    served = [p for p in page_files() if p.relative_to(ROOT).parts[0] in ("staff", "common")]
    sizes = {p.name: transferred_size(p) for p in served}
    assert sum(sizes.values()) < 250_000, sizes


def test_a_stores_webhooks_are_listed_with_their_failures_and_no_secret(stack, open_page):
    store_id = new_store(stack)
    body = {"url": "https://hooks.example.com/in", "events": ["callback_task"]}
    created = api(stack, "POST", f"/v1/stores/{store_id}/webhooks", body).json()

    page = open_page()
    signed_in(page, stack.demo["admin_email"], stack.demo["admin_password"])
    manage(page, store_id, "Webhooks")
    item = page.locator(f'#admin-webhook-list [data-webhook="{created["webhook_id"]}"]')
    item.wait_for()
    assert "https://hooks.example.com/in" in item.text_content()
    assert "No failed deliveries." in item.text_content()
    assert created["secret"] not in page.content()
