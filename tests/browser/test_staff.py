"""The staff callback page in headless Chromium against the local stack."""

from __future__ import annotations

import base64
import json
import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from playwright.sync_api import Route

from devtools.pages import page_files, transferred_size
from devtools.stack_process import ROOT
from tests.browser.conftest import PHONE_VIEWPORT, screenshot, wait_on_page, wait_until
from tests.browser.staff_page import (
    api_get,
    callback_task,
    card,
    english_left,
    fake_task,
    paired_kiosk,
    sign_in,
)

pytestmark = pytest.mark.browser

RED = "rgb(165, 14, 14)"  # --danger in staff.css


def test_claim_call_and_resolve_a_callback(stack, open_staff):
    task = callback_task(stack, "+14155550131", "Ana", "Only one till open")
    page = open_staff()
    screenshot(page, "staff-0-sign-in")
    sign_in(page, stack.demo["staff_token"])

    item = card(page, task["task_id"])
    item.wait_for()
    assert page.text_content("#store-label") == "Store demo-store"
    assert "Ana" in item.text_content()
    assert "+1******0131" in item.text_content()
    assert item.locator('[data-reason="wait_time"]').text_content() == "Wait time"
    assert "Only one till open" in item.text_content()
    assert "Due in 23 hours" in item.locator(".due").text_content()
    assert "4155550131" not in page.content()  # the list shows masked numbers only
    wait_until(lambda: page.locator('#recovery [data-figure="tasks"] dd[data-value]').count())
    screenshot(page, "staff-1-tasks")

    item.get_by_role("button", name="Claim the call to Ana").click()
    page.wait_for_selector("#screen-task:not([hidden])")
    assert page.text_content("#task-title") == "Call Ana"
    assert page.get_attribute("#call-link", "href") == "tel:+14155550131"
    assert page.text_content("#call-link") == "Call +1 415 555 0131"
    assert page.evaluate("document.activeElement.id") == "task-title"
    screenshot(page, "staff-2-call")

    page.click("#save")  # nothing filled in yet
    assert page.text_content("#resolve-error") == "Choose how the call went."
    page.check('#outcomes input[value="resolved"]')
    page.click("#save")
    assert page.text_content("#resolve-error") == "Write a short note about the call."
    assert page.evaluate("document.activeElement.id") == "note"
    page.fill("#note", "Apologised; a second till opens at lunch from Monday.")
    page.click('#recovered [data-score="4"]')
    assert page.get_attribute('#recovered [data-score="4"]', "aria-pressed") == "true"
    screenshot(page, "staff-3-resolve")
    page.click("#save")

    page.wait_for_selector("#screen-tasks:not([hidden])")
    assert page.text_content("#status") == "Saved: Resolved."
    assert "4155550131" not in page.content()  # the number left with the call view
    page.click("#tab-resolved")
    resolved = card(page, task["task_id"])
    resolved.wait_for()
    assert resolved.get_attribute("data-status") == "resolved"
    assert resolved.locator("[data-outcome]").text_content() == "Resolved"
    assert card(page, task["task_id"]).count() == 1
    figure = '#recovery [data-figure="{}"] dd'
    wait_until(lambda: int(page.get_attribute(figure.format("resolved"), "data-value") or 0) >= 1)
    assert page.text_content(figure.format("recovery_rate")).endswith("%")
    screenshot(page, "staff-4-resolved")

    task_now = api_get(stack, f"/v1/callbacks/{task['task_id']}", stack.demo["staff_token"])
    assert task_now.json()["status"] == "resolved"
    assert task_now.json()["outcome"] == "resolved"


def test_a_task_claimed_by_someone_else_shows_why_and_refreshes(stack, open_staff):
    task = callback_task(stack, "+14155550132", "Bo", "Rude at the till")
    page = open_staff()
    sign_in(page, stack.demo["staff_token"])
    card(page, task["task_id"]).wait_for()

    taken = requests.post(
        f"{stack.demo['api_url']}/v1/callbacks/{task['task_id']}/claim",
        headers={"Authorization": f"Bearer {stack.demo['admin_token']}"},
        timeout=10,
    )
    assert taken.status_code == 200, taken.text
    card(page, task["task_id"]).get_by_role("button", name="Claim").click()

    wait_until(lambda: "claimed by demo-admin" in page.text_content("#error"), message="409")
    assert page.text_content("#error").endswith("The list has been refreshed.")
    wait_until(lambda: card(page, task["task_id"]).count() == 0, message="gone from open")
    screenshot(page, "staff-5-conflict")
    page.click("#tab-claimed")
    claimed = card(page, task["task_id"])
    claimed.wait_for()
    assert "Claimed by demo-admin" in claimed.text_content()
    assert claimed.locator("button").count() == 0  # not ours to call


def test_staff_of_another_store_cannot_see_its_tasks(stack, open_staff):
    task = callback_task(stack, "+14155550133", "Cy", "No stock")
    ours = open_staff()
    sign_in(ours, stack.demo["staff_token"])
    card(ours, task["task_id"]).wait_for()

    # Their own store: the token has one, so it opens at once, without this task.
    theirs = open_staff()
    sign_in(theirs, stack.demo["other_staff_token"])
    theirs.wait_for_selector("#screen-tasks:not([hidden])")
    assert theirs.text_content("#store-label") == f"Store {stack.demo['other_store_id']}"
    wait_until(lambda: theirs.text_content("#tab-open") != "To call", message="list loaded")
    assert card(theirs, task["task_id"]).count() == 0

    # A link to the demo store: the API refuses, the page says so and shows nothing.
    linked = open_staff(fragment=f"&store={stack.demo['store_id']}")
    sign_in(linked, stack.demo["other_staff_token"])
    wait_until(lambda: "Not allowed for this store" in linked.text_content("#error"), message="403")
    assert linked.locator(".task").count() == 0
    assert linked.is_hidden("#list-empty")
    assert linked.is_hidden("#recovery")
    screenshot(linked, "staff-6-forbidden")
    linked.click("#change-store")
    linked.click(f'[data-store="{stack.demo["other_store_id"]}"]')
    linked.wait_for_selector("#screen-tasks:not([hidden])")
    wait_until(lambda: linked.text_content("#error") == "", message="error cleared")


def notification_link(stack: Any, task_id: str) -> str:
    """The link in the task's notification, as the local stack published it."""

    def link() -> str | None:
        with open(stack.demo["notifications_log"], encoding="utf-8") as log:
            for line in log:
                message = json.loads(line)["message"]
                if f"task={task_id}" in message:
                    return str(message.splitlines()[-1])
        return None

    return str(wait_until(link, message=f"notification of {task_id}"))


def test_the_link_in_a_notification_opens_the_task_after_sign_in(stack, browser, open_staff):
    task = callback_task(stack, "+14155550136", "Eli", "Long queue")
    link = notification_link(stack, task["task_id"])
    context = browser.new_context(viewport=PHONE_VIEWPORT)
    try:
        page = context.new_page()
        page.goto(link)
        page.wait_for_selector("#screen-signin:not([hidden])")
        assert "task=" not in page.url  # the fragment is read once and cleared
        sign_in(page, stack.demo["staff_token"])

        page.wait_for_selector("#screen-task:not([hidden])")
        assert page.text_content("#task-title") == "Call Eli"
        assert page.get_attribute("#call-link", "href") == "tel:+14155550136"
        page.click("#back")
        card(page, task["task_id"]).wait_for()
    finally:
        context.close()

    # Another store's staff following the same link: refused, and told why.
    refused = open_staff(fragment=f"&task={task['task_id']}")
    sign_in(refused, stack.demo["other_staff_token"])
    wait_until(lambda: "from the link" in refused.text_content("#error"), message="refusal")
    assert "not allowed" in refused.text_content("#error")
    assert refused.text_content("#store-label") == f"Store {stack.demo['other_store_id']}"
    assert "4155550136" not in refused.content()


def test_an_admin_types_the_store_id(stack, open_staff):
    task = callback_task(stack, "+14155550134", "Di", "Dirty floor")
    page = open_staff(viewport={"width": 1280, "height": 800})
    sign_in(page, stack.demo["admin_token"])
    page.wait_for_selector("#screen-store:not([hidden])")
    page.click("#store-form button[type=submit]")
    assert page.text_content("#store-error") == "Type a store id."
    page.fill("#store-input", stack.demo["store_id"])
    page.click("#store-form button[type=submit]")
    card(page, task["task_id"]).wait_for()
    assert page.is_visible("#change-store")
    wait_until(lambda: page.locator('#recovery [data-figure="tasks"] dd[data-value]').count())
    screenshot(page, "staff-10-admin-desktop")


def test_an_overdue_task_is_red_and_says_overdue(stack, open_staff):
    now = datetime.now(UTC)
    late = fake_task("t-late", now - timedelta(hours=2), "+1******0199", None)
    soon = fake_task("t-soon", now + timedelta(hours=20), "+1******0198", "Eve")
    later = fake_task("t-new", now + timedelta(hours=23), "+1******0197", "Fay")
    served: dict[str, list[dict]] = {"open": [soon, late], "claimed": [], "resolved": []}

    asked: list[str] = []

    def tasks(route: Route) -> None:
        status = re.search(r"status=(\w+)", route.request.url).group(1)
        asked.append(status)
        route.fulfill(json={"tasks": served[status]}, headers={"Access-Control-Allow-Origin": "*"})

    page = open_staff(query="?refresh=1000")
    page.route(re.compile(r"/v1/callbacks\?"), tasks)
    sign_in(page, stack.demo["staff_token"])
    card(page, "t-late").wait_for()
    # The first load and at least two timed refreshes (every second with ?refresh=1000).
    wait_on_page(page, lambda: asked.count("open") >= 3, message="two timed refreshes")

    items = page.locator(".task")
    assert [items.nth(i).get_attribute("data-task-id") for i in range(2)] == ["t-late", "t-soon"]
    overdue = card(page, "t-late")
    assert "overdue" in overdue.get_attribute("class")
    assert overdue.locator(".due .badge").text_content() == "Overdue"
    assert "Overdue by 2 hours" in overdue.locator(".due").text_content()
    assert overdue.locator(".due").evaluate("node => getComputedStyle(node).color") == RED
    assert "+1******0199" in overdue.locator("h3").text_content()
    assert "Priority 1" in overdue.text_content()
    assert "overdue" not in card(page, "t-soon").get_attribute("class")
    assert "Overdue" not in card(page, "t-soon").text_content()
    screenshot(page, "staff-7-overdue")

    # A task that was not there at the last refresh is highlighted (and announced).
    served["open"] = [soon, late, later]
    page.click("#refresh")
    card(page, "t-new").wait_for()
    assert "new" in card(page, "t-new").get_attribute("class").split()
    assert card(page, "t-new").locator(".new-badge").text_content() == "New"
    assert "new" not in card(page, "t-soon").get_attribute("class").split()
    assert page.text_content("#status") == "1 new task to call."
    card(page, "t-new").scroll_into_view_if_needed()
    screenshot(page, "staff-8-new-task")


def forged_token(claims: dict[str, Any]) -> str:
    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'HS256', 'typ': 'JWT'})}.{part(claims)}.bm90LXNpZ25lZA"


def test_a_refused_token_returns_to_sign_in_with_a_reason(stack, open_staff):
    page = open_staff()
    sign_in(page, "not a token")
    assert "not a staff token" in page.text_content("#signin-error")
    assert page.get_attribute("#token", "aria-invalid") == "true"

    expired = forged_token({"role": "staff", "stores": ["demo-store"], "exp": 1})
    sign_in(page, expired)
    assert "expired" in page.text_content("#signin-error")

    exp = int((datetime.now(UTC) + timedelta(hours=1)).timestamp())
    forged = forged_token({"sub": "x", "role": "staff", "stores": ["demo-store"], "exp": exp})
    sign_in(page, forged)
    page.wait_for_selector("#screen-signin:not([hidden])")
    wait_until(lambda: "not accepted" in page.text_content("#signin-error"), message="401")
    assert page.evaluate("sessionStorage.getItem('token')") is None
    screenshot(page, "staff-9-refused")

    sign_in(page, stack.demo["staff_token"])
    page.wait_for_selector("#screen-tasks:not([hidden])")
    page.click("#sign-out")
    page.wait_for_selector("#screen-signin:not([hidden])")
    assert page.text_content("#status") == "You are signed out."
    assert page.evaluate("sessionStorage.length") == 0


def test_the_page_is_small_labelled_and_easy_to_tap(stack, open_staff):
    task = callback_task(stack, "+14155550135", None, None)
    page = open_staff()
    sign_in(page, stack.demo["staff_token"])
    card(page, task["task_id"]).wait_for()

    # The staff page's budget, as CloudFront sends it: both languages, admin screens, common/.
    served = [p for p in page_files() if p.relative_to(ROOT).parts[0] in ("staff", "common")]
    assert sum(transferred_size(p) for p in served) < 250_000
    assert page.get_by_label("Staff token").count() == 1
    assert (
        page.get_by_role("tab", name=re.compile("^To call")).get_attribute("aria-selected")
        == "true"
    )
    assert page.get_by_role("tab", selected=True).count() == 1
    page.get_by_role("tab", name=re.compile("^To call")).focus()
    page.keyboard.press("ArrowRight")
    assert (
        page.get_by_role("tab", name=re.compile("^Claimed")).get_attribute("aria-selected")
        == "true"
    )
    assert page.evaluate("document.activeElement.id") == "tab-claimed"
    page.keyboard.press("ArrowLeft")

    def easy_to_tap(*targets: Any) -> None:
        for target in targets:
            box = target.bounding_box()
            assert box["height"] >= 44, target
            assert box["width"] >= 44, target

    claim = card(page, task["task_id"]).get_by_role("button", name="Claim the call to +1******0135")
    easy_to_tap(
        claim, page.locator("#sign-out"), page.locator("#refresh"), page.locator("#tab-open")
    )
    claim.click()
    page.wait_for_selector("#screen-task:not([hidden])")
    easy_to_tap(
        page.locator("#call-link"),
        page.locator("#back"),
        page.locator("#outcomes label").first,
        page.locator("#recovered [data-score]").first,
        page.locator("#save"),
    )
    assert page.get_by_label("Note (required)").count() == 1
    assert page.get_by_role("radio", name=re.compile("^Resolved")).count() == 1
    assert page.get_by_role("button", name="4 of 5, Happy").count() == 1
    assert page.get_by_role("group", name=re.compile("How satisfied")).count() == 1
    assert page.get_attribute("#note", "maxlength") == "1000"


# ---- the store's scale, languages, history and call attempts -------------------------------


def test_a_0_to_10_store_is_offered_0_to_10_and_the_score_chosen_is_sent(
    stack, open_staff, put_stack_store
):
    from chalicelib.domain.survey import DEFAULT_SURVEY, Scale
    from tests.conftest import make_store

    store_id = f"nps-{uuid.uuid4().hex[:8]}"
    nps = DEFAULT_SURVEY.model_copy(
        update={"scale": Scale(kind="nps", min=0, max=10), "callback_at_or_below": 6}
    )
    put_stack_store(make_store(store_id, survey=nps))
    kiosk = paired_kiosk(stack, store_id)
    task = callback_task(stack, "+14155550141", "Gus", "Long wait", kiosk=kiosk, score=3)

    page = open_staff()
    sign_in(page, stack.demo["admin_token"])
    page.fill("#store-input", store_id)
    page.click("#store-form button[type=submit]")
    item = card(page, task["task_id"])
    item.wait_for()
    assert "Score 3 of 10" in item.text_content()
    item.get_by_role("button", name="Claim the call to Gus").click()
    page.wait_for_selector("#screen-task:not([hidden])")

    buttons = page.locator("#recovered [data-score]")
    assert [buttons.nth(i).text_content() for i in range(buttons.count())] == [
        str(score) for score in range(11)
    ]
    assert page.text_content("#scale-low") == "0 = Very unhappy"
    assert page.text_content("#scale-high") == "10 = Very happy"
    assert page.get_by_role("button", name="9 of 10, Very happy").count() == 1
    page.check('#outcomes input[value="resolved"]')
    page.fill("#note", "Apologised for the wait")
    page.click('#recovered [data-score="9"]')
    screenshot(page, "staff-12-scale-0-10")
    with page.expect_request(lambda r: r.url.endswith("/resolve")) as sent:
        page.click("#save")
    page.wait_for_selector("#screen-tasks:not([hidden])")

    assert sent.value.post_data_json["recovered_score"] == 9
    full = api_get(stack, f"/v1/callbacks/{task['task_id']}", stack.demo["admin_token"]).json()
    (resolved,) = [e for e in full["history"] if e["event"] == "resolved"]
    assert resolved["detail"]["recovered_score"] == 9


def test_the_page_switches_to_chinese_and_back_and_keeps_the_choice(stack, open_staff):
    task = callback_task(stack, "+14155550142", "王芳", "排队太久")
    page = open_staff()
    sign_in(page, stack.demo["staff_token"])
    item = card(page, task["task_id"])
    item.wait_for()
    wait_until(lambda: page.locator('#recovery [data-figure="tasks"] dd[data-value]').count())

    page.get_by_role("button", name="中文").click()
    assert page.evaluate("document.documentElement.lang") == "zh-CN"
    assert page.get_attribute('#languages [lang="zh-CN"]', "aria-pressed") == "true"
    assert page.text_content("#tab-open").startswith("待回访")
    assert item.locator('[data-reason="wait_time"]').text_content() == "等待时间"
    assert "评分 1 分（满分 5）" in item.text_content()
    assert english_left(page, "#screen-tasks") == []
    screenshot(page, "staff-13-chinese-list")

    item.get_by_role("button", name="认领回访：王芳").click()
    page.wait_for_selector("#screen-task:not([hidden])")
    assert page.text_content("#status") == "已认领。电话号码在下方。"
    assert page.text_content("#call-link") == "拨打 +1 415 555 0142"
    page.get_by_role("button", name="无人接听").click()
    page.wait_for_selector('#history-list [data-event="attempt"]')
    page.click("#save")  # nothing chosen: the message is in Chinese too
    assert page.text_content("#resolve-error") == "请选择通话结果。"
    assert page.get_by_role("button", name="4 分（满分 5），满意").count() == 1
    assert english_left(page, "#screen-task") == []
    assert english_left(page, ".messages") == []
    screenshot(page, "staff-14-chinese-task")

    page.reload()  # the choice is kept in this browser
    page.wait_for_selector("#screen-tasks:not([hidden])")
    wait_until(lambda: page.text_content("#tab-open").startswith("待回访"), message="still 中文")

    page.get_by_role("button", name="English").click()
    assert page.evaluate("document.documentElement.lang") == "en"
    assert page.text_content("#tab-open").startswith("To call")
    assert page.evaluate("localStorage.getItem('locale')") == "en"
    claimed = page.locator("#tab-claimed")
    claimed.click()
    wait_until(lambda: card(page, task["task_id"]).count(), message="the claimed task")
    assert "Claimed by you" in card(page, task["task_id"]).text_content()


def test_staff_record_call_attempts_and_see_the_tasks_history(stack, open_staff):
    task = callback_task(stack, "+14155550143", "Hal", "Broken trolley")
    page = open_staff()
    sign_in(page, stack.demo["staff_token"])
    card(page, task["task_id"]).get_by_role("button", name="Claim the call to Hal").click()
    page.wait_for_selector("#screen-task:not([hidden])")
    history = page.locator("#history-list li")
    assert [history.nth(i).get_attribute("data-event") for i in range(history.count())] == [
        "created",
        "claimed",
        "phone_read",
    ]
    assert "by you" in history.nth(1).text_content()

    page.get_by_role("button", name="No answer").click()
    page.wait_for_selector('#history-list [data-event="attempt"]')
    assert page.text_content("#status") == "Call recorded: no answer."
    page.get_by_role("button", name="Reached").click()
    wait_until(lambda: page.locator('#history-list [data-event="attempt"]').count() == 2)
    attempts = page.locator('#history-list [data-event="attempt"]')
    assert "Call · no answer" in attempts.nth(0).text_content()
    assert "Call · reached" in attempts.nth(1).text_content()
    screenshot(page, "staff-15-history")

    # What the page showed is what the API recorded.
    full = api_get(stack, f"/v1/callbacks/{task['task_id']}", stack.demo["staff_token"]).json()
    recorded = [(e["event"], e.get("detail", {}).get("result")) for e in full["history"]]
    assert recorded[:5] == [
        ("created", None),
        ("claimed", None),
        ("phone_read", None),
        ("attempt", "no_answer"),
        ("attempt", "reached"),
    ]
