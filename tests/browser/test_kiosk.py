"""The kiosk page in headless Chromium against the local stack."""

from __future__ import annotations

import json
import time

import pytest
import requests

from tests.browser.conftest import screen, screenshot, wait_on_page, wait_until

pytestmark = pytest.mark.browser


def tap_face(page, score: int) -> None:
    page.click(f'.face[data-score="{score}"]')


def test_a_happy_tap_with_a_reason_is_stored(stack, new_kiosk, open_kiosk):
    kiosk = new_kiosk()
    page = open_kiosk(kiosk["token"])
    page.wait_for_selector(".face")
    screenshot(page, "kiosk-1-rate")

    tap_face(page, 5)
    page.wait_for_selector("#screen-followup:not([hidden])")
    assert page.text_content("#followup-title") == "Great! What did you like?"
    page.click('[data-reason="staff"]')
    screenshot(page, "kiosk-2-followup-happy")
    page.click("#followup-next")
    page.wait_for_selector("#screen-thanks:not([hidden])")
    screenshot(page, "kiosk-4-thanks")

    stored = wait_until(lambda: stack.ratings_of_kiosk(kiosk["kiosk_id"]), message="rating")
    assert len(stored) == 1
    assert stored[0]["score"] == 5
    assert stored[0]["reasons"] == ["staff"]
    wait_until(lambda: screen(page) == "rate", message="reset to the start")


def test_the_expectation_question_is_asked_and_stored(stack, new_kiosk, open_kiosk):
    kiosk = new_kiosk()
    page = open_kiosk(kiosk["token"])
    tap_face(page, 2)
    page.wait_for_selector("#screen-followup:not([hidden])")

    assert page.is_visible("#expectation-block")
    assert page.text_content("#expectation-title") == "Compared with what you expected, was it…"
    options = page.locator("#expectation [data-expectation]")
    assert options.all_text_contents() == ["Worse", "As expected", "Better"]
    page.click('[data-expectation="better"]')
    page.click('[data-expectation="worse"]')  # a change of mind: one answer only
    assert page.get_attribute('[data-expectation="worse"]', "aria-checked") == "true"
    assert page.get_attribute('[data-expectation="better"]', "aria-checked") == "false"
    page.click('#languages button[lang="zh-CN"]')
    assert options.all_text_contents() == ["更差", "符合预期", "更好"]
    assert page.get_attribute('[data-expectation="worse"]', "aria-checked") == "true"
    screenshot(page, "kiosk-2b-expectation")
    page.click("#followup-next")
    page.click("#callback-no")

    stored = wait_until(lambda: stack.ratings_of_kiosk(kiosk["kiosk_id"]), message="rating")
    assert stored[0]["expectation"] == "worse"
    wait_until(lambda: screen(page) == "rate", message="reset to the start")
    tap_face(page, 4)
    page.wait_for_selector("#screen-followup:not([hidden])")
    assert page.locator('#expectation [aria-checked="true"]').count() == 0


def test_an_unhappy_tap_with_a_callback_keeps_the_phone_off_the_screen(
    stack, new_kiosk, open_kiosk
):
    kiosk = new_kiosk()
    page = open_kiosk(kiosk["token"])
    tap_face(page, 1)
    page.wait_for_selector("#screen-followup:not([hidden])")
    assert page.text_content("#followup-title") == "Sorry to hear that. What went wrong?"
    page.click('[data-reason="wait_time"]')
    page.fill("#comment", "Only one till open")
    screenshot(page, "kiosk-2-followup-unhappy")
    page.click("#followup-next")
    page.wait_for_selector("#screen-callback:not([hidden])")
    assert page.is_disabled("#callback-yes")
    for key in "4155550123":
        page.click(f'#phone-keypad [data-key="{key}"]')
    page.fill("#callback-name", "Ana")
    assert page.is_disabled("#callback-yes")  # no consent yet
    page.check("#consent")
    screenshot(page, "kiosk-3-callback")
    page.click("#callback-yes")
    page.wait_for_selector("#screen-thanks:not([hidden])")
    assert "call you" in page.text_content("#thanks-text")

    stored = wait_until(lambda: stack.ratings_of_kiosk(kiosk["kiosk_id"]), message="rating")
    assert stored[0]["score"] == 1
    assert stored[0]["reasons"] == ["wait_time"]
    assert stored[0]["comment"] == "Only one till open"
    # The consent text the kiosk showed is the API's, and its version comes back with the call.
    assert stored[0]["contact"] == {
        "phone": "+14155550123",
        "name": "Ana",
        "consent_version": "kiosk-1",
    }
    wait_until(lambda: screen(page) == "rate", message="reset to the start")
    html = page.content()
    assert "4155550123" not in html
    assert "Only one till open" not in html
    assert page.input_value("#callback-name") == ""
    assert not page.is_checked("#consent")


def test_ratings_wait_to_share_a_request_but_a_callback_goes_at_once(stack, new_kiosk, open_kiosk):
    kiosk = new_kiosk()
    page = open_kiosk(kiosk["token"], options="&batch=8000")
    page.wait_for_selector(".face")
    sent: list[int] = []
    page.on(
        "request",
        lambda r: (
            r.url.endswith("/v1/kiosk/ratings")
            and sent.append(len(json.loads(r.post_data or "{}")["ratings"]))
        ),
    )
    for score in (5, 4):
        tap_face(page, score)
        page.click("#followup-skip")
        wait_until(lambda: screen(page) == "rate", message="reset after thanks")
    assert sent == []  # both wait, well inside the window (the syncs every 0.5 s pass them by)
    wait_on_page(page, lambda: sent, timeout=15, message="the window's end")
    assert sent == [2]  # one request for both
    wait_until(lambda: len(stack.ratings_of_kiosk(kiosk["kiosk_id"])) == 2)

    tap_face(page, 1)
    page.click("#followup-next")
    for key in "4155550188":
        page.click(f'#phone-keypad [data-key="{key}"]')
    page.check("#consent")
    started = time.monotonic()
    page.click("#callback-yes")
    wait_on_page(page, lambda: len(sent) == 2, timeout=10, message="the callback's request")
    assert time.monotonic() - started < 4  # not the 8 s window
    assert sent == [2, 1]


def test_idle_follow_up_resets_and_keeps_what_was_given(stack, new_kiosk, open_kiosk):
    kiosk = new_kiosk()
    page = open_kiosk(kiosk["token"])
    tap_face(page, 2)
    page.wait_for_selector("#screen-followup:not([hidden])")
    page.click('[data-reason="price"]')

    wait_until(lambda: screen(page) == "rate", message="idle reset")

    stored = wait_until(lambda: stack.ratings_of_kiosk(kiosk["kiosk_id"]), message="rating")
    assert stored[0]["score"] == 2
    assert stored[0]["reasons"] == ["price"]
    assert page.locator('[data-reason][aria-pressed="true"]').count() == 0


def test_hammering_a_face_is_one_customer(stack, new_kiosk, open_kiosk):
    kiosk = new_kiosk()
    page = open_kiosk(kiosk["token"])
    page.wait_for_selector(".face")
    face = page.locator('.face[data-score="1"]')

    for _ in range(30):
        face.dispatch_event("click")
    page.wait_for_selector("#screen-followup:not([hidden])")
    page.click("#followup-skip")
    page.click("#callback-no")

    stored = wait_until(lambda: stack.ratings_of_kiosk(kiosk["kiosk_id"]), message="rating")
    # Any extra rating the taps made would wait in the kiosk's queue: once it is empty, all
    # it held has been sent.
    wait_until(
        lambda: page.get_attribute("#sync-status", "data-waiting") == "0", message="empty queue"
    )
    assert len(stack.ratings_of_kiosk(kiosk["kiosk_id"])) == len(stored) == 1


def test_taps_made_offline_survive_a_reload_and_are_stored_once(stack, new_kiosk, open_kiosk):
    kiosk = new_kiosk()
    page = open_kiosk(kiosk["token"])
    page.wait_for_selector(".face")
    page.evaluate("navigator.serviceWorker.ready")
    wait_until(lambda: page.evaluate("!!navigator.serviceWorker.controller") or page.reload())

    page.context.set_offline(True)
    for score in (5, 4, 3):
        tap_face(page, score)
        page.click("#followup-skip")
        wait_until(lambda: screen(page) == "rate", message="reset after thanks")
    tap_face(page, 2)  # a customer walks away mid-flow; the page reloads
    page.wait_for_selector("#screen-followup:not([hidden])")
    page.reload()
    page.wait_for_selector(".face")
    wait_until(lambda: page.get_attribute("#sync-status", "data-waiting") == "4")
    screenshot(page, "kiosk-5-offline-queue")
    assert stack.ratings_of_kiosk(kiosk["kiosk_id"]) == []

    page.context.set_offline(False)

    wait_until(lambda: len(stack.ratings_of_kiosk(kiosk["kiosk_id"])) == 4, message="sync")
    wait_until(lambda: page.get_attribute("#sync-status", "data-waiting") == "0")
    scores = sorted(r["score"] for r in stack.ratings_of_kiosk(kiosk["kiosk_id"]))
    assert scores == [2, 3, 4, 5]


def test_a_lost_response_is_retried_without_counting_twice(stack, new_kiosk, open_kiosk):
    kiosk = new_kiosk()
    page = open_kiosk(kiosk["token"])
    page.wait_for_selector(".face")
    lost = []

    def drop_first_response(route):
        if not lost:
            route.fetch()  # the server stores the batch...
            lost.append(True)
            route.abort()  # ...but the kiosk never hears back
        else:
            route.continue_()

    page.route("**/v1/kiosk/ratings", drop_first_response)
    tap_face(page, 4)
    page.click("#followup-skip")

    wait_until(lambda: page.get_attribute("#sync-status", "data-waiting") == "0", timeout=20)
    assert lost
    assert len(stack.ratings_of_kiosk(kiosk["kiosk_id"])) == 1


def test_the_page_sends_heartbeats_with_its_queue_and_the_list_shows_it_alive(
    stack, new_kiosk, open_kiosk
):
    kiosk = new_kiosk()
    api, store = stack.demo["api_url"], stack.demo["store_id"]
    headers = {"Authorization": f"Bearer {stack.demo['staff_token']}"}

    def listed() -> dict:
        kiosks = requests.get(f"{api}/v1/stores/{store}/kiosks", headers=headers, timeout=10)
        return next(k for k in kiosks.json()["kiosks"] if k["kiosk_id"] == kiosk["kiosk_id"])

    assert listed()["health"] == "never_seen"
    page = open_kiosk(kiosk["token"], options="&heartbeat=700")
    page.wait_for_selector(".face")
    first = wait_until(lambda: listed()["last_seen_at"] and listed(), message="first heartbeat")
    page.route("**/v1/kiosk/ratings", lambda route: route.abort())  # the ratings cannot go
    tap_face(page, 5)
    page.click("#followup-skip")

    queued = wait_until(lambda: listed()["queue_length"] == 1 and listed(), message="queue of 1")
    assert first["health"] == queued["health"] == "ok"
    assert first["queue_length"] == 0
    assert queued["app_version"] == "0.2.0"
    assert queued["last_seen_at"] >= first["last_seen_at"]  # stored to the second
    battery = page.evaluate("navigator.getBattery().then((b) => Math.round(b.level * 100) / 100)")
    assert queued["battery"] == battery  # what Chromium tells the page


def test_pairing_with_a_code_then_revocation_returns_to_pairing(stack, open_kiosk):
    api, staff = stack.demo["api_url"], stack.demo["staff_token"]
    headers = {"Authorization": f"Bearer {staff}"}
    created = requests.post(
        f"{api}/v1/stores/{stack.demo['store_id']}/kiosks", headers=headers, timeout=10
    ).json()
    page = open_kiosk(token=None)
    page.wait_for_selector("#screen-pair:not([hidden])")

    for digit in "000000" if created["pairing_code"] != "000000" else "111111":
        page.click(f'#pair-keypad [data-key="{digit}"]')
    page.click("#pair-button")
    wait_until(lambda: page.text_content("#pair-error"), message="wrong code refused")
    page.click('#pair-keypad [data-key="clear"]')
    for digit in created["pairing_code"]:
        page.click(f'#pair-keypad [data-key="{digit}"]')
    screenshot(page, "kiosk-0-pairing")
    page.click("#pair-button")
    page.wait_for_selector("#screen-rate:not([hidden]) .face")

    revoked = requests.post(
        f"{api}/v1/stores/{stack.demo['store_id']}/kiosks/{created['kiosk_id']}/revoke",
        headers=headers,
        timeout=10,
    )
    assert revoked.status_code == 200
    page.wait_for_selector("#screen-pair:not([hidden])", timeout=15000)
    assert page.evaluate("localStorage.getItem('token')") is None


def test_too_many_pairing_tries_say_how_long_to_wait(stack, open_kiosk):
    page = open_kiosk(token=None)
    page.wait_for_selector("#screen-pair:not([hidden])")
    # The API's answer once a client has used up its tries (the limit itself is tested on the
    # API: using it up here would lock the other tests' pairing out for the window).
    page.route(
        "**/v1/kiosks/pair",
        lambda route: route.fulfill(
            status=429,
            json={"error": {"code": "rate_limited", "message": "too many", "details": []}},
            headers={
                "Retry-After": "130",
                "Access-Control-Allow-Origin": "*",
                "Access-Control-Expose-Headers": "Retry-After",
            },
        ),
    )

    for digit in "123456":
        page.click(f'#pair-keypad [data-key="{digit}"]')
    page.click("#pair-button")

    wait_until(lambda: page.text_content("#pair-error"), message="the limit is explained")
    assert page.text_content("#pair-error") == "Too many tries. Try again in 3 min."


def test_the_language_toggle_switches_every_string(stack, new_kiosk, open_kiosk):
    kiosk = new_kiosk()
    page = open_kiosk(kiosk["token"])
    page.wait_for_selector(".face")

    page.click('#languages button[lang="zh-CN"]')
    assert page.text_content("#question") == "您今天的购物体验如何？"
    assert page.get_attribute("html", "lang") == "zh-CN"
    screenshot(page, "kiosk-6-zh-CN")
    tap_face(page, 1)
    page.wait_for_selector("#screen-followup:not([hidden])")
    assert page.text_content("#followup-title") == "很抱歉。哪里让您不满意？"
    assert page.text_content('[data-reason="wait_time"]') == "等待时间"
    page.click("#followup-skip")
    page.click("#callback-no")

    stored = wait_until(lambda: stack.ratings_of_kiosk(kiosk["kiosk_id"]), message="rating")
    assert stored[0]["locale"] == "zh-CN"
    wait_until(lambda: screen(page) == "rate")
    assert page.text_content("#question") == "How was your visit today?"  # next customer


def test_the_page_is_accessible_by_its_labels(stack, new_kiosk, open_kiosk):
    kiosk = new_kiosk()
    page = open_kiosk(kiosk["token"])
    page.wait_for_selector(".face")

    labels = [page.get_attribute(f'.face[data-score="{s}"]', "aria-label") for s in range(1, 6)]
    boxes = [page.locator(f'.face[data-score="{s}"]').bounding_box() for s in range(1, 6)]

    assert labels[0] == "Very unhappy, 1 of 5"
    assert labels[4] == "Very happy, 5 of 5"
    assert all(box["width"] >= 88 and box["height"] >= 88 for box in boxes)
    assert page.evaluate("getComputedStyle(document.body).userSelect") == "none"
    assert "user-scalable=no" in page.get_attribute('meta[name="viewport"]', "content")


def test_a_survey_refresh_that_changes_nothing_leaves_the_faces_in_place(
    stack, new_kiosk, open_kiosk
):
    kiosk = new_kiosk()
    page = open_kiosk(kiosk["token"])  # refreshes the survey every second
    page.wait_for_selector(".face")
    page.evaluate("window.firstFace = document.querySelector('.face')")
    refreshed = page.evaluate("localStorage.getItem('survey_at')")

    wait_until(
        lambda: page.evaluate("localStorage.getItem('survey_at')") != refreshed,
        message="a survey refresh",
    )

    assert page.evaluate("document.querySelector('.face') === window.firstFace")


AMBER = "rgb(227, 116, 0)"
CORS = {"Access-Control-Allow-Origin": "*", "Access-Control-Expose-Headers": "Retry-After"}


def queued_taps(page, scores) -> None:
    """Taps made offline, so that they go out together in one batch once online."""
    page.context.set_offline(True)
    for score in scores:
        tap_face(page, score)
        page.click("#followup-skip")
        if score <= 2:
            page.click("#callback-no")
        wait_until(lambda: screen(page) == "rate", message="reset after thanks")
    wait_until(lambda: page.get_attribute("#sync-status", "data-waiting") == str(len(scores)))


def test_ratings_answered_retry_stay_queued_across_a_reload_and_drain(stack, new_kiosk, open_kiosk):
    kiosk = new_kiosk()
    page = open_kiosk(kiosk["token"])
    page.wait_for_selector(".face")
    sent: list[list[str]] = []  # the rating ids of each request, in order
    retried: list[str] = []

    def storage_fails_for_some(route):
        ratings = json.loads(route.request.post_data)["ratings"]
        sent.append([r["rating_id"] for r in ratings])
        if len(sent) > 1:
            route.continue_()
            return
        # The first batch: DynamoDB fails for its 2nd and 4th ratings (the API answers them
        # `retry`); the others really are stored.
        retried.extend(ratings[i]["rating_id"] for i in (1, 3))
        body = json.loads(route.request.post_data)
        body["ratings"] = [r for r in ratings if r["rating_id"] not in retried]
        stored = route.fetch(post_data=json.dumps(body)).json()["results"]
        results = iter(stored)
        answer = [
            {"rating_id": r["rating_id"], "status": "retry"}
            if r["rating_id"] in retried
            else next(results)
            for r in ratings
        ]
        # Long enough to see the dot and reload the page meanwhile.
        route.fulfill(status=200, json={"results": answer}, headers=CORS | {"Retry-After": "4"})

    queued_taps(page, (5, 4, 3, 4))
    page.route("**/v1/kiosk/ratings", storage_fails_for_some)
    page.context.set_offline(False)

    wait_on_page(
        page,
        lambda: page.get_attribute("#sync-status", "data-state") == "retrying",
        message="the retry ones wait",
    )
    assert page.get_attribute("#sync-status", "data-waiting") == "2"
    assert (
        page.eval_on_selector("#sync-status .dot", "d => getComputedStyle(d).backgroundColor")
        == AMBER
    )
    assert "waiting to be sent again" in page.text_content("#sync-text")
    assert len(stack.ratings_of_kiosk(kiosk["kiosk_id"])) == 2
    screenshot(page, "kiosk-7-retrying")

    page.reload()  # within the Retry-After: the queue and the wait survive it
    page.wait_for_selector(".face")
    wait_on_page(page, lambda: page.get_attribute("#sync-status", "data-waiting") == "2")
    assert page.get_attribute("#sync-status", "data-state") == "retrying"
    assert len(sent) == 1  # the reload did not send before Retry-After

    wait_on_page(
        page,
        lambda: page.get_attribute("#sync-status", "data-waiting") == "0",
        timeout=20,
        message="the retry ones drain",
    )
    wait_on_page(page, lambda: page.get_attribute("#sync-status", "data-state") == "synced")
    assert sent[1] == retried  # exactly the retry ones were sent again
    assert len(sent) == 2
    stored = stack.ratings_of_kiosk(kiosk["kiosk_id"])
    assert sorted(r["score"] for r in stored) == [3, 4, 4, 5]


def test_a_503_keeps_the_whole_batch_amber_and_honours_retry_after(stack, new_kiosk, open_kiosk):
    kiosk = new_kiosk()
    page = open_kiosk(kiosk["token"])
    page.wait_for_selector(".face")
    sent: list[float] = []  # when each request came (s)

    def unavailable_once(route):
        sent.append(time.monotonic())
        if len(sent) > 1:
            route.continue_()
            return
        ids = [r["rating_id"] for r in json.loads(route.request.post_data)["ratings"]]
        error = {
            "code": "unavailable",
            "message": "storage is busy or unavailable: no rating could be written",
            "details": [{"rating_id": i, "status": "retry"} for i in ids],
        }
        route.fulfill(status=503, json={"error": error}, headers=CORS | {"Retry-After": "2"})

    queued_taps(page, (4, 2))
    page.route("**/v1/kiosk/ratings", unavailable_once)
    page.context.set_offline(False)

    wait_on_page(page, lambda: page.get_attribute("#sync-status", "data-state") == "retrying")
    assert page.get_attribute("#sync-status", "data-waiting") == "2"
    assert (
        page.eval_on_selector("#sync-status .dot", "d => getComputedStyle(d).backgroundColor")
        == AMBER
    )

    wait_on_page(
        page, lambda: page.get_attribute("#sync-status", "data-waiting") == "0", timeout=20
    )
    assert sent[1] - sent[0] >= 2  # not before Retry-After
    assert len(stack.ratings_of_kiosk(kiosk["kiosk_id"])) == 2


ZERO_TO_TEN = {
    "locales": ["en", "zh-CN"],
    "question": {"en": "Would you recommend us?", "zh-CN": "您会推荐我们吗？"},
    "scale": {"kind": "nps", "min": 0, "max": 10},
    "reasons": ["wait_time"],
    "reason_labels": {"en": {"wait_time": "Wait time"}, "zh-CN": {"wait_time": "等待时间"}},
    "ask_expectation": False,
    "callback_at_or_below": 6,
}


def test_a_paired_kiosk_shows_a_new_survey_version_after_its_next_sync(stack, open_kiosk):
    api = stack.demo["api_url"]
    admin = {"Authorization": f"Bearer {stack.demo['admin_token']}"}
    store_id = f"browser-{int(time.time() * 1000)}"
    created = requests.post(
        f"{api}/v1/stores",
        headers=admin,
        json={"store_id": store_id, "name": "Versions", "timezone": "UTC", "country": "GB"},
        timeout=10,
    )
    assert created.status_code == 201
    code = requests.post(f"{api}/v1/stores/{store_id}/kiosks", headers=admin, timeout=10).json()
    paired = requests.post(
        f"{api}/v1/kiosks/pair", json={"pairing_code": code["pairing_code"]}, timeout=10
    ).json()
    page = open_kiosk(paired["token"])
    page.wait_for_selector(".face")
    assert page.locator(".face").count() == 5

    saved = requests.put(
        f"{api}/v1/stores/{store_id}/survey", headers=admin, json=ZERO_TO_TEN, timeout=30
    )
    assert saved.json()["version"] == 2

    wait_until(lambda: page.locator(".face").count() == 11, message="the 0-10 survey shown")
    assert page.text_content("#question") == "Would you recommend us?"
    assert json.loads(page.evaluate("localStorage.getItem('survey')"))["version"] == 2
    page.click('.face[data-score="9"]')
    page.click("#followup-skip")
    rating = wait_until(lambda: stack.ratings_of_kiosk(paired["kiosk_id"]), message="rating")
    assert [(r["score"], r["survey_version"]) for r in rating] == [(9, 2)]


def test_the_preview_renders_the_draft_with_a_badge_and_sends_nothing(stack, open_kiosk):
    page = open_kiosk(None)
    draft = ZERO_TO_TEN | {"version": 3, "store_name": "Draft store", "country": "GB"}
    page.evaluate(f"localStorage.setItem('storepulse.preview', {json.dumps(json.dumps(draft))})")
    requests_seen: list[str] = []
    page.on("request", lambda request: requests_seen.append(request.url))
    page.goto(page.url.split("?")[0] + "?preview&thanks=300")

    page.wait_for_selector(".face")
    assert page.is_visible("#preview-badge")
    assert page.text_content("#preview-badge") == "Preview: nothing is sent"
    assert not page.is_visible("#sync-status")
    assert page.text_content("#store-name") == "Draft store"
    assert page.text_content("#question") == "Would you recommend us?"
    assert page.locator(".face").count() == 11
    page.click('.face[data-score="3"]')  # unhappy: the whole flow, callback offer included
    assert page.text_content('[data-reason="wait_time"]') == "Wait time"
    page.click("#followup-next")
    page.wait_for_selector("#screen-callback:not([hidden])")
    page.click("#callback-no")
    wait_until(lambda: screen(page) == "rate", message="reset after thanks")

    assert [url for url in requests_seen if "/v1/" in url] == []
    assert page.evaluate("localStorage.getItem('survey')") is None
    assert page.evaluate("localStorage.getItem('token')") is None
