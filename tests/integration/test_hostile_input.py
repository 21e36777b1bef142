"""Hostile input through the Chalice app (security review, issue 10): each case was a 500 or
was accepted as is; each is now a 4xx in the error shape, or that one rating `rejected`."""

from __future__ import annotations

import json
import os
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from twilio.request_validator import RequestValidator

from chalicelib.auth import issue_integration_token, issue_staff_token
from chalicelib.notify import sms_sender
from chalicelib.storage import ratings
from tests.conftest import bearer, iso, kiosk_rating, now, rating_batch

WEBHOOK = os.environ["STOREPULSE_TWILIO_WEBHOOK_URL"]
TWILIO_TOKEN = os.environ["STOREPULSE_SECRET_STOREPULSE_TWILIO_AUTH_TOKEN"]
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def assert_error(response: Any, status: int, message: str | None = None) -> dict[str, Any]:
    """`response` is `status` with exactly the error body; returns its `error`."""
    assert response.status_code == status, response.body
    body = response.json_body
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert isinstance(body["error"]["details"], list)
    if message is not None:
        assert message.lower() in body["error"]["message"].lower()
    return dict(body["error"])


@pytest.fixture
def admin_headers(store) -> dict[str, str]:
    return bearer(issue_staff_token("root", "admin", [], now()))


# 4a: the HMAC input was encoded as ASCII, outside the TokenError handling.
@pytest.mark.parametrize("token", ["tø.k.en", "a.b.ø", "eyJ.eyJ.sig€", "ø"])
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/kiosk/survey"),
        ("POST", "/v1/kiosk/ratings"),
        ("GET", "/v1/stores/store-a/kiosks"),
        ("GET", "/v1/callbacks"),
        ("POST", "/v1/surveys/invitations"),
    ],
)
def test_a_non_ascii_bearer_token_is_401(api, store, method, path, token):
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    response = api.http.request(method, path, headers=headers, body=b"{}")

    assert_error(response, 401, "not valid")


# 4b: the form was decoded as UTF-8 before anything could refuse it.
@pytest.mark.parametrize("body", [b"\xff\xfe=1", b"Body=caf\xe9&From=%2B14155550123", b"\x80"])
def test_a_twilio_body_that_is_not_utf8_is_400(api, store, body):
    response = api.http.post("/v1/sms/twilio", headers=FORM, body=body)

    assert_error(response, 400, "UTF-8")


# 4c: ids longer than DynamoDB's key limit reached DynamoDB (a ValidationException).
@pytest.mark.parametrize(
    ("method", "template"),
    [
        ("GET", "/v1/stores/{id}/kiosks"),
        ("POST", "/v1/stores/{id}/kiosks"),
        ("POST", "/v1/stores/store-a/kiosks/{id}/revoke"),
        ("GET", "/v1/stores/{id}/satisfaction"),
        ("GET", "/v1/stores/{id}/recovery"),
        ("GET", "/v1/callbacks/{id}"),
        ("POST", "/v1/callbacks/{id}/claim"),
        ("POST", "/v1/callbacks/{id}/resolve"),
    ],
)
def test_a_path_id_longer_than_a_key_may_be_is_400(api, admin_headers, method, template):
    path = template.format(id="x" * 2100)

    response = api.http.request(method, path, headers=admin_headers, body=b"{}")

    error = assert_error(response, 400, "too long")
    assert "x" * 200 not in error["message"]  # the id is not echoed back in full


@pytest.mark.parametrize(
    "query",
    [
        "store_id=" + "x" * 2100 + "&status=open",
        "store_ids=" + "x" * 2100,
        "store_ids=store-a," + "x" * 2100,
    ],
)
def test_a_query_id_longer_than_a_key_may_be_is_400(api, admin_headers, query):
    path = "/v1/callbacks" if query.startswith("store_id=") else "/v1/satisfaction"

    response = api.http.get(f"{path}?{query}", headers=admin_headers)

    assert_error(response, 400)


# 4d: date arithmetic past year 9999 or before year 1 raised OverflowError.
@pytest.mark.parametrize("route", ["satisfaction", "recovery"])
@pytest.mark.parametrize(
    "query",
    [
        "to=9999-12-31",
        "to=9999-12-31T23:59:59",
        "from=9999-12-30&to=9999-12-31",
        "to=0001-01-01",
        "from=0001-01-01",
        "from=0001-01-01&to=0001-01-02",
        "from=0001-01-01T00:00:00%2B14:00&to=0001-01-02",
        "granularity=week&from=0001-01-01&to=0001-02-01",
    ],
)
def test_dates_at_the_ends_of_the_calendar_are_400(api, staff_headers, route, query):
    if route == "recovery":
        query = query.removeprefix("granularity=week&")

    response = api.http.get(f"/v1/stores/store-a/{route}?{query}", headers=staff_headers)

    assert_error(response, 400, "out of bounds")


@pytest.mark.parametrize("route", ["satisfaction", "recovery"])
def test_a_range_of_more_than_a_few_years_is_400(api, staff_headers, route):
    query = "from=2020-01-01&to=2026-01-01" + ("&granularity=week" if route != "recovery" else "")

    response = api.http.get(f"/v1/stores/store-a/{route}?{query}", headers=staff_headers)

    assert_error(response, 400)


def test_a_recent_range_is_still_answered(api, staff_headers):
    satisfaction = api.http.get(
        "/v1/stores/store-a/satisfaction?granularity=week&from=2024-01-01&to=2026-01-01",
        headers=staff_headers,
    )
    recovery = api.http.get(
        "/v1/stores/store-a/recovery?from=2023-01-01&to=2026-01-01", headers=staff_headers
    )

    assert satisfaction.status_code == 200
    assert recovery.status_code == 200


# 4e: skew correction of a tap at the ends of the calendar raised OverflowError.
def post_batch(api: Any, headers: dict[str, str], batch: dict[str, Any]) -> Any:
    return api.http.post("/v1/kiosk/ratings", headers=headers, body=json.dumps(batch))


@pytest.mark.parametrize(
    "tapped_at", ["0001-01-01T00:00:00Z", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59Z"]
)
def test_a_tap_at_the_ends_of_the_calendar_is_that_rating_rejected(api, kiosk_headers, tapped_at):
    good, bad = kiosk_rating(), kiosk_rating(tapped_at=tapped_at)
    # The kiosk clock runs a second ahead: the correction moves taps earlier.
    batch = rating_batch(good, bad, sent_at=now() + timedelta(seconds=1))

    response = post_batch(api, kiosk_headers, batch)

    assert response.status_code == 200, response.body
    stored, rejected = response.json_body["results"]
    assert stored == {"rating_id": good["rating_id"], "status": "stored"}
    assert rejected["rating_id"] == bad["rating_id"]
    assert rejected["status"] == "rejected"
    assert rejected["error"]["details"][0]["field"] == "tapped_at"


@pytest.mark.parametrize(
    "sent_at", ["9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z", "0001-01-01T00:00:00+14:00"]
)
def test_a_send_time_at_the_ends_of_the_calendar_is_400_for_the_batch(api, kiosk_headers, sent_at):
    batch = rating_batch(kiosk_rating()) | {"sent_at": sent_at}

    response = post_batch(api, kiosk_headers, batch)

    error = assert_error(response, 400)
    assert [d["field"] for d in error["details"]] == ["sent_at"]


def test_a_kiosk_clock_reset_to_1970_still_delivers(api, kiosk_headers):
    """The bound on sent_at is the calendar's, not a clock's: skew correction is the point."""
    epoch = now().replace(year=1970)
    rating = kiosk_rating(tapped_at=iso(epoch - timedelta(minutes=1)))

    response = post_batch(api, kiosk_headers, rating_batch(rating, sent_at=epoch))

    assert response.json_body["results"] == [{"rating_id": rating["rating_id"], "status": "stored"}]


# 5: `$` matched before a trailing newline, so "+1...\n" was a valid, different number.
NEWLINE_PHONE = "+19255554179\n"


def test_a_callback_phone_with_a_trailing_newline_is_rejected(api, kiosk_headers):
    callback = {"phone": NEWLINE_PHONE, "name": "Ana", "consent": True}
    good, bad = kiosk_rating(), kiosk_rating(score=1, callback=callback)

    response = post_batch(api, kiosk_headers, rating_batch(good, bad))

    stored, rejected = response.json_body["results"]
    assert stored["status"] == "stored"
    assert rejected["status"] == "rejected"
    assert rejected["error"]["details"][0]["field"] == "callback.phone"


def test_an_invitation_to_a_phone_with_a_trailing_newline_is_suppressed(api, store):
    sms_sender.OUTBOX.clear()
    headers = bearer(issue_integration_token("pos-system", [store.store_id], now()))
    body = {"phone": NEWLINE_PHONE, "store_id": store.store_id}

    response = api.http.post("/v1/surveys/invitations", headers=headers, body=json.dumps(body))

    assert response.status_code == 202
    assert response.json_body["status"] == "suppressed"
    assert response.json_body["reason"] == "invalid_phone"
    assert sms_sender.OUTBOX == []


# 6: names and comments with control or format characters.
@pytest.mark.parametrize(
    "name",
    [
        "Ana\u202eevil",  # right-to-left override
        "Ana\u2066x\u2069",  # isolates
        "An\u200ba",  # zero-width space
        "Ana\u200f",  # right-to-left mark
        "Ana\nBob",
        "Ana\tB",
        "Ana\x00",
        "Ana\x1b[31m",
        "Ana\u2028",
        "Ana\u2029",
        "\ufeffAna",
    ],
)
def test_a_callback_name_with_control_characters_is_rejected(api, kiosk_headers, name):
    callback = {"phone": "+14155550123", "name": name, "consent": True}
    good, bad = kiosk_rating(), kiosk_rating(score=1, callback=callback)

    response = post_batch(api, kiosk_headers, rating_batch(good, bad))

    stored, rejected = response.json_body["results"]
    assert stored["status"] == "stored"
    assert rejected["status"] == "rejected"
    assert rejected["error"]["details"][0]["field"] == "callback.name"
    assert "control or format characters" in rejected["error"]["message"]


@pytest.mark.parametrize(
    ("comment", "kept"),
    [
        ("slow\u202etill", "slowtill"),
        ("slow\x07", "slow"),
        ("a\r\nb", "a\nb"),
        ("a\u2028b", "ab"),
        ("a\u200bb", "ab"),
        ("family 👨\u200d👩\u200d👧 happy", "family 👨\u200d👩\u200d👧 happy"),
    ],
)
def test_a_comment_loses_control_characters_and_its_rating_is_stored(
    api, kiosk_headers, comment, kept
):
    rating = kiosk_rating(comment=comment)

    response = post_batch(api, kiosk_headers, rating_batch(rating))

    assert response.json_body["results"] == [{"rating_id": rating["rating_id"], "status": "stored"}]
    stored = ratings.get_rating(rating["rating_id"])
    assert stored is not None
    assert stored.comment == kept


def test_a_comment_in_paragraphs_and_a_name_in_any_script_are_stored(api, kiosk_headers):
    callback = {"phone": "+14155550123", "name": "José 王 Ørsted-Müller", "consent": True}
    rating = kiosk_rating(score=1, comment="Slow till.\n\n\tStaff kind 👍", callback=callback)

    response = post_batch(api, kiosk_headers, rating_batch(rating))

    assert response.json_body["results"] == [{"rating_id": rating["rating_id"], "status": "stored"}]


# 7: a signed form without MessageSid was processed with an empty message id.
@pytest.mark.parametrize("sid", [None, ""])
def test_a_signed_twilio_form_without_a_message_sid_is_400(api, store, sid):
    params = {"From": "+14155550123", "To": "+15005550006", "Body": "5", "NumMedia": "0"}
    if sid is not None:
        params["MessageSid"] = sid
    signature = RequestValidator(TWILIO_TOKEN).compute_signature(WEBHOOK, params)
    headers = FORM | {"X-Twilio-Signature": signature}

    response = api.http.post("/v1/sms/twilio", headers=headers, body=urlencode(params))

    assert_error(response, 400, "MessageSid")


# Found by tests/unit/test_fuzz_routes.py: the client's X-Correlation-Id was echoed as is,
# control characters included (a header API Gateway cannot send, and a forged log field).
@pytest.mark.parametrize("supplied", ["\x1f", "id\u202e", "tøken", "a b", "x" * 65 + "\x00"])
def test_a_correlation_id_that_is_not_plain_is_replaced(api, kiosk_headers, supplied):
    headers = kiosk_headers | {"X-Correlation-Id": supplied}

    response = api.http.get("/v1/kiosk/survey", headers=headers)

    assert response.status_code == 200
    echoed = response.headers["X-Correlation-Id"]
    assert echoed != supplied
    assert echoed.isascii()
    assert echoed.isprintable()


def test_a_plain_correlation_id_is_kept(api, kiosk_headers):
    headers = kiosk_headers | {"X-Correlation-Id": "sync-42:kiosk/k-1@2026.1"}

    response = api.http.get("/v1/kiosk/survey", headers=headers)

    assert response.headers["X-Correlation-Id"] == "sync-42:kiosk/k-1@2026.1"
