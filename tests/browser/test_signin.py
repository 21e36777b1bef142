"""Signing in on the staff page through the local stack's user pool (moto's server as
Amazon Cognito, the same JSON API calls as in AWS): e-mail and password, the first
sign-in's new password, refusals in words, the ID token renewed during a shift, sign-out.
Where moto lacks a call (RevokeToken) or a refusal cannot be caused on demand (too many
attempts), the test answers Cognito's part with `page.route`, as Cognito answers it."""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, Request, Route

from tests.browser.conftest import PHONE_VIEWPORT, screen, screenshot, wait_on_page
from tests.browser.staff_page import (
    callback_task,
    card,
    english_left,
    sign_in,
    sign_in_with_password,
)
from tests.cognito import cognito_client

pytestmark = pytest.mark.browser


def claims_of(token: str) -> dict[str, Any]:
    part = token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))))


def cognito_action(request: Request) -> str:
    return str(request.headers.get("x-amz-target", "")).rsplit(".", 1)[-1]


def cognito_refusal(route: Route, code: str, message: str) -> None:
    """Cognito's answer to a refused call: 400 with the exception's name in `__type`."""
    route.fulfill(
        status=400,
        content_type="application/x-amz-json-1.1",
        headers={"Access-Control-Allow-Origin": "*"},
        body=json.dumps({"__type": code, "message": message}),
    )


class SignInPage:
    """A staff page in its own browser context, and the Cognito calls it made."""

    def __init__(self, page: Page, endpoint: str) -> None:
        self.page = page
        self.endpoint = endpoint
        self.calls: list[tuple[str, dict[str, Any]]] = []  # (action, body)
        self.api_bearers: list[str] = []
        page.on("request", self._seen)

    def _seen(self, request: Request) -> None:
        if request.url.startswith(self.endpoint):
            if request.method == "POST":
                self.calls.append((cognito_action(request), request.post_data_json or {}))
        elif "/v1/" in request.url and request.headers.get("authorization"):
            self.api_bearers.append(request.headers["authorization"].removeprefix("Bearer "))

    def actions(self) -> list[str]:
        return [action for action, _ in self.calls]

    def answer(self, action: str, handle: Callable[[Route], None]) -> None:
        """Cognito's `action` answered by `handle`; every other call goes to moto."""

        def route(route: Route) -> None:
            if cognito_action(route.request) == action:
                handle(route)
            else:
                route.fallback()

        self.page.route(lambda url: url.startswith(self.endpoint), route)

    def stored(self, key: str) -> Any:
        return self.page.evaluate("(key) => sessionStorage.getItem(key)", key)


@pytest.fixture
def pool(stack: Any) -> dict[str, Any]:
    """The local stack's pool, as demo.json names it."""
    demo = stack.demo
    assert demo.get("cognito_endpoint"), "the local stack names its user pool in demo.json"
    return {
        "endpoint": demo["cognito_endpoint"].rstrip("/") + "/",
        "pool_id": demo["user_pool_id"],
        "client_id": demo["user_pool_client_id"],
    }


@pytest.fixture
def open_signin(stack: Any, browser: Browser, pool: dict[str, Any]) -> Iterator[Any]:
    contexts = []

    def open_page(query: str = "", fragment: str = "") -> SignInPage:
        context = browser.new_context(viewport=PHONE_VIEWPORT)
        contexts.append(context)
        page = context.new_page()
        signin = SignInPage(page, pool["endpoint"])
        pages_url = stack.demo["staff_url"].partition("#")[0]
        page.goto(f"{pages_url}{query}{'#' + fragment if fragment else ''}")
        page.wait_for_selector("#password-form:not([hidden])")
        return signin

    yield open_page
    for context in contexts:
        context.close()


def invited(pool: dict[str, Any], groups: tuple[str, ...]) -> tuple[str, str]:
    """A person created by an admin (AdminCreateUser) with a temporary password, as an
    invitation makes them: (e-mail, temporary password)."""
    idp = cognito_client(pool["endpoint"].rstrip("/"))
    email = f"new-{secrets.token_hex(4)}@example.com"
    temporary = f"Temp-{secrets.token_urlsafe(9)}1a"
    idp.admin_create_user(
        UserPoolId=pool["pool_id"],
        Username=email,
        TemporaryPassword=temporary,
        UserAttributes=[
            {"Name": "email", "Value": email},
            {"Name": "email_verified", "Value": "true"},
        ],
        MessageAction="SUPPRESS",
    )
    for group in groups:
        idp.admin_add_user_to_group(UserPoolId=pool["pool_id"], Username=email, GroupName=group)
    return email, temporary


def test_staff_sign_in_with_their_password_and_see_only_their_store(stack, open_signin):
    demo = stack.demo
    task = callback_task(stack, "+14155550151", "Ida", "Queue at the deli")
    signin = open_signin()
    page = signin.page
    assert page.is_visible("#email")
    assert page.is_visible("#password")
    screenshot(page, "signin-0-password")
    sign_in_with_password(page, demo["staff_email"].upper(), demo["staff_password"])

    card(page, task["task_id"]).wait_for()  # their one store opens at once
    assert page.text_content("#store-label") == f"Store {demo['store_id']}"
    assert page.text_content("#who") == f"{demo['staff_email']} · staff"
    assert page.is_hidden("#change-store")
    token = signin.stored("token")
    claims = claims_of(token)
    assert claims["token_use"] == "id"
    assert claims["email"] == demo["staff_email"]
    assert f"store:{demo['store_id']}" in claims["cognito:groups"]
    assert signin.api_bearers
    assert set(signin.api_bearers) == {token}  # the ID token is the bearer
    assert signin.actions() == ["InitiateAuth"]
    assert signin.calls[0][1]["AuthFlow"] == "USER_PASSWORD_AUTH"
    assert signin.calls[0][1]["AuthParameters"]["USERNAME"] == demo["staff_email"]
    screenshot(page, "signin-1-tasks")

    # Another store of the region, by a link: the API refuses and the page says so.
    linked = open_signin(fragment=f"store={demo['other_store_id']}")
    sign_in_with_password(linked.page, demo["staff_email"], demo["staff_password"])
    wait_on_page(
        linked.page,
        lambda: "Not allowed for this store" in linked.page.text_content("#error"),
        message="403",
    )
    assert linked.page.locator(".task").count() == 0


def test_the_first_sign_in_sets_a_new_password(stack, open_signin, pool):
    email, temporary = invited(pool, (f"store:{stack.demo['store_id']}",))
    signin = open_signin()
    page = signin.page
    sign_in_with_password(page, email, temporary)

    page.wait_for_selector("#new-password-form:not([hidden])")
    assert page.is_hidden("#password-form")
    assert signin.stored("token") is None  # no token before the password is set
    assert page.evaluate("document.activeElement.id") == "new-password"
    page.fill("#new-password", "Longer-password-1")
    page.fill("#new-password-again", "Longer-password-2")
    page.click("#new-password-form button[type=submit]")
    assert page.text_content("#new-password-error") == "The two passwords are not the same."

    page.fill("#new-password", "short")
    page.fill("#new-password-again", "short")
    page.click("#new-password-form button[type=submit]")
    wait_on_page(
        page,
        lambda: page.text_content("#new-password-error").startswith("This password is not"),
        message="the policy's refusal",
    )
    refused = page.text_content("#new-password-error")
    assert refused.startswith("This password is not accepted: ")
    assert "password policy" in refused  # Cognito's own words for its policy
    assert page.get_attribute("#new-password", "aria-invalid") == "true"
    screenshot(page, "signin-2-new-password-refused")

    chosen = f"Chosen-{secrets.token_urlsafe(9)}9x"
    page.fill("#new-password", chosen)
    page.fill("#new-password-again", chosen)
    page.click("#new-password-form button[type=submit]")
    page.wait_for_selector("#screen-tasks:not([hidden])")
    assert page.text_content("#store-label") == f"Store {stack.demo['store_id']}"
    challenge = [body for action, body in signin.calls if action == "RespondToAuthChallenge"]
    assert challenge[-1]["ChallengeName"] == "NEW_PASSWORD_REQUIRED"
    assert challenge[-1]["ChallengeResponses"]["NEW_PASSWORD"] == chosen

    # The new password is theirs now; the temporary one no longer works.
    page.click("#sign-out")
    page.wait_for_selector("#password-form:not([hidden])")
    sign_in_with_password(page, email, temporary)
    wrong = "Wrong e-mail or password."
    wait_on_page(page, lambda: page.text_content("#password-error") == wrong, message="refused")
    sign_in_with_password(page, email, chosen)
    page.wait_for_selector("#screen-tasks:not([hidden])")


def test_refusals_are_said_in_words_in_both_languages(stack, open_signin):
    signin = open_signin()
    page = signin.page
    page.click("#password-form button[type=submit]")
    assert page.text_content("#password-error") == "Type your e-mail address."

    sign_in_with_password(page, stack.demo["staff_email"], "Not-the-password-1")
    wrong = "Wrong e-mail or password."
    wait_on_page(page, lambda: page.text_content("#password-error") == wrong, message="wrong")
    assert page.get_attribute("#password", "aria-invalid") == "true"
    assert page.input_value("#password") == "Not-the-password-1"  # kept to correct
    asked = len(signin.calls)
    sign_in_with_password(page, "nobody@example.com", "Not-the-password-1")
    wait_on_page(
        page,
        lambda: (
            len(signin.calls) > asked
            and page.evaluate("!document.querySelector('button:disabled')")
        ),
        message="unknown e-mail answered",
    )
    assert page.text_content("#password-error") == wrong  # the same words
    assert signin.stored("token") is None
    screenshot(page, "signin-3-wrong-password")

    page.get_by_role("button", name="中文").click()
    assert page.text_content("#password-error") == "邮箱或密码错误。"
    page.click("#token-signin summary")  # the local stack's developer-token form, unfolded
    assert english_left(page, "#screen-signin") == []
    screenshot(page, "signin-3-chinese")
    page.click("#token-signin summary")
    page.get_by_role("button", name="English").click()

    answers = {
        "TooManyRequestsException": "Too many attempts. Wait a few minutes, then try again.",
        "LimitExceededException": "Too many attempts. Wait a few minutes, then try again.",
        "PasswordResetRequiredException": (
            "Your password has to be reset. Ask your manager or an admin for a new temporary"
            " password."
        ),
    }
    refusal = {"code": ""}
    signin.answer("InitiateAuth", lambda route: cognito_refusal(route, refusal["code"], "refused"))
    for code, words in answers.items():
        refusal["code"] = code
        page.fill("#password", "Any-password-123")
        page.click("#password-form button[type=submit]")
        wait_on_page(page, lambda w=words: page.text_content("#password-error") == w, message=code)

    page.unroute_all()
    page.route(lambda url: url.startswith(signin.endpoint), lambda route: route.abort())
    page.click("#password-form button[type=submit]")
    wait_on_page(
        page,
        lambda: "Cannot reach the sign-in service" in page.text_content("#password-error"),
        message="offline",
    )
    page.get_by_role("button", name="中文").click()
    assert page.text_content("#password-error") == "无法连接登录服务。请检查网络后重试。"


def test_the_id_token_is_renewed_before_it_expires_and_a_refused_renewal_signs_out(
    stack, open_signin, pool
):
    # The renewal starts `renew` ms before the ID token's expiry: with the token's whole
    # life but 2 s, it comes 2 s after sign-in (and every 2 s after), not in an hour.
    lifetime_s = 3600  # the pool's IdTokenValidity (60 minutes, infra/resources.yaml)
    signin = open_signin(query=f"?renew={lifetime_s * 1000 - 2000}")
    page = signin.page
    sign_in_with_password(page, stack.demo["staff_email"], stack.demo["staff_password"])
    page.wait_for_selector("#screen-tasks:not([hidden])")
    first = signin.stored("token")
    refresh_token = signin.stored("refresh_token")
    assert refresh_token

    wait_on_page(page, lambda: signin.stored("token") != first, message="renewed")
    renewals = [
        body for action, body in signin.calls if body.get("AuthFlow") == "REFRESH_TOKEN_AUTH"
    ]
    assert renewals[0]["AuthParameters"] == {"REFRESH_TOKEN": refresh_token}
    assert renewals[0]["ClientId"] == pool["client_id"]
    renewed = signin.stored("token")
    assert claims_of(renewed)["email"] == stack.demo["staff_email"]
    assert claims_of(renewed)["exp"] >= claims_of(first)["exp"]
    page.click("#refresh")  # the API gets the renewed token, and the shift goes on
    wait_on_page(page, lambda: signin.api_bearers[-1] != first, message="renewed bearer")
    assert screen(page) == "tasks"
    assert page.text_content("#error") == ""

    # The pool refuses (the refresh token expired or was revoked): signed out, told why.
    signin.answer(
        "InitiateAuth",
        lambda route: cognito_refusal(route, "NotAuthorizedException", "Refresh Token has expired"),
    )
    page.wait_for_selector("#screen-signin:not([hidden])", timeout=10000)
    assert page.text_content("#password-error") == (
        "Your session has ended (it expired or was withdrawn). Sign in again."
    )
    assert page.evaluate("sessionStorage.length") == 0
    screenshot(page, "signin-4-session-ended")


def test_a_tab_back_after_the_id_tokens_hour_renews_it_without_a_sign_in(stack, open_signin):
    signin = open_signin()
    page = signin.page
    sign_in_with_password(page, stack.demo["staff_email"], stack.demo["staff_password"])
    page.wait_for_selector("#screen-tasks:not([hidden])")
    first = signin.stored("token")
    # As a laptop closed over lunch finds it: the ID token's hour over (by this browser's
    # clock, which the page keeps it by), the refresh token still good.
    page.evaluate("sessionStorage.setItem('token_expires', String(Date.now() - 1000))")
    before = len(signin.api_bearers)
    page.reload()

    page.wait_for_selector("#screen-tasks:not([hidden])")
    assert "REFRESH_TOKEN_AUTH" in [body.get("AuthFlow") for _, body in signin.calls]
    assert signin.stored("token") != first
    assert int(signin.stored("token_expires")) > page.evaluate("Date.now()") + 3000_000
    wait_on_page(page, lambda: signin.api_bearers[before:], message="API calls after the reload")
    assert first not in signin.api_bearers[before:]  # renewed before the first call
    assert page.text_content("#store-label") == f"Store {stack.demo['store_id']}"


def test_sign_out_revokes_the_refresh_token_and_forgets_the_tokens(stack, open_signin, pool):
    signin = open_signin()
    page = signin.page
    revoked: list[dict[str, Any]] = []

    def revoke(route: Route) -> None:  # moto has no RevokeToken: answered as Cognito does
        revoked.append(route.request.post_data_json)
        route.fulfill(
            status=200,
            content_type="application/x-amz-json-1.1",
            headers={"Access-Control-Allow-Origin": "*"},
            body="{}",
        )

    signin.answer("RevokeToken", revoke)
    sign_in_with_password(page, stack.demo["staff_email"], stack.demo["staff_password"])
    page.wait_for_selector("#screen-tasks:not([hidden])")
    refresh_token = signin.stored("refresh_token")
    assert {"token", "refresh_token", "token_expires", "store"} <= set(
        page.evaluate("Object.keys(sessionStorage)")
    )

    page.click("#sign-out")
    page.wait_for_selector("#password-form:not([hidden])")
    assert page.text_content("#status") == "You are signed out."
    assert page.evaluate("sessionStorage.length") == 0
    wait_on_page(page, lambda: revoked, message="RevokeToken")
    assert revoked == [{"ClientId": pool["client_id"], "Token": refresh_token}]
    page.reload()  # nothing left to sign in with
    page.wait_for_selector("#password-form:not([hidden])")
    assert page.evaluate("sessionStorage.length") == 0


def test_a_manager_chooses_among_the_stores_of_their_region(stack, open_signin):
    demo = stack.demo
    signin = open_signin()
    page = signin.page
    sign_in_with_password(page, demo["manager_email"], demo["manager_password"])
    page.wait_for_selector("#screen-store:not([hidden])")
    assert page.text_content("#store-text") == "The stores of your region."
    assert "manager, region west" in page.text_content("#who")
    choices = page.locator("#store-choices [data-store]")
    wait_on_page(page, lambda: choices.count() >= 2, message="the region's stores")
    listed = {choices.nth(i).get_attribute("data-store") for i in range(choices.count())}
    assert {demo["store_id"], demo["other_store_id"]} <= listed
    assert page.is_hidden("#store-form")  # a manager chooses; only an admin types any id
    screenshot(page, "signin-5-manager-stores")
    page.click(f'[data-store="{demo["other_store_id"]}"]')
    page.wait_for_selector("#screen-tasks:not([hidden])")
    assert page.text_content("#store-label") == f"Store {demo['other_store_id']}"
    assert page.is_visible("#change-store")

    # Without the list (the API out of reach, a refusal): the manager types the store's id.
    unlisted = open_signin().page
    unlisted.route(
        f"{demo['api_url']}/v1/stores",
        lambda route: route.fulfill(
            status=503,
            json={"error": {"code": "unavailable", "message": "try again"}},
            headers={"Access-Control-Allow-Origin": "*"},
        ),
    )
    sign_in_with_password(unlisted, demo["manager_email"], demo["manager_password"])
    unlisted.wait_for_selector("#store-form:not([hidden])")
    assert unlisted.text_content("#stores-status") == (
        "Could not list the stores (try again): type the store id."
    )
    unlisted.fill("#store-input", demo["store_id"])
    unlisted.click("#store-form button[type=submit]")
    unlisted.wait_for_selector("#screen-tasks:not([hidden])")


def test_without_a_pool_the_page_offers_the_developer_token_alone(stack, browser):
    """A deployment whose /config.json names no pool (before the pool's parameters are
    set): only the developer token, unfolded."""
    context = browser.new_context(viewport=PHONE_VIEWPORT)
    try:
        page = context.new_page()
        page.route(
            "**/config.json", lambda route: route.fulfill(json={"api_url": stack.demo["api_url"]})
        )
        page.goto(stack.demo["staff_url"].partition("#")[0])
        page.wait_for_selector("#screen-signin:not([hidden])")
        assert page.is_hidden("#password-form")
        assert page.locator("#token-signin").evaluate("node => node.open")
        assert page.is_visible("#token")
        sign_in(page, stack.demo["staff_token"])
        page.wait_for_selector("#screen-tasks:not([hidden])")
        assert page.text_content("#who") == "demo-staff · staff"
        assert page.evaluate("sessionStorage.getItem('refresh_token')") is None
    finally:
        context.close()


def test_the_password_and_tokens_go_only_where_the_deployment_says(stack, open_signin, pool):
    """Addresses in the link (query or fragment) are not where the page signs in: the
    password goes to /config.json's Cognito endpoint, the ID token to its API only."""
    elsewhere = "http://127.0.0.1:9/"
    signin = open_signin(
        query=f"?cognito_endpoint={elsewhere}&api_url={elsewhere}",
        fragment=f"cognito_endpoint={elsewhere}&api_url={elsewhere}",
    )
    page = signin.page
    sent: list[Request] = []
    page.on("request", lambda request: sent.append(request))
    password = stack.demo["staff_password"]
    sign_in_with_password(page, stack.demo["staff_email"], password)
    page.wait_for_selector("#screen-tasks:not([hidden])")
    wait_on_page(page, lambda: signin.api_bearers, message="an API call")

    token = signin.stored("token")
    with_password = [r.url for r in sent if password in (r.post_data or "")]
    with_token = [r.url for r in sent if token in (r.headers.get("authorization") or "")]
    assert with_password == [pool["endpoint"]]
    assert with_token
    assert all(url.startswith(stack.demo["api_url"] + "/v1/") for url in with_token)
    assert not [r.url for r in sent if r.url.startswith(elsewhere)]
