"""Kiosk pairing, the survey it shows, and revocation, through the Chalice app."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from chalicelib.auth import issue_staff_token
from chalicelib.domain.kiosks import Kiosk
from chalicelib.storage import stores
from tests.conftest import bearer, now, rating_batch


def create_kiosk(api: Any, headers: dict[str, str], store_id: str = "store-a") -> Any:
    return api.http.post(f"/v1/stores/{store_id}/kiosks", headers=headers, body="")


def pair(api: Any, code: str) -> Any:
    body = json.dumps({"pairing_code": code})
    return api.http.post("/v1/kiosks/pair", headers={"Content-Type": "application/json"}, body=body)


def test_staff_pairs_a_kiosk_that_then_stores_ratings(api, staff_headers, store):
    created = create_kiosk(api, staff_headers)
    paired = pair(api, created.json_body["pairing_code"])
    token = paired.json_body["token"]
    posted = api.http.post(
        "/v1/kiosk/ratings", headers=bearer(token), body=json.dumps(rating_batch())
    )

    assert created.status_code == 201
    assert set(created.json_body) == {"kiosk_id", "pairing_code", "expires_at"}
    assert len(created.json_body["pairing_code"]) == 6
    assert paired.status_code == 201
    assert set(paired.json_body) == {"kiosk_id", "store_id", "token", "survey"}
    assert paired.json_body["kiosk_id"] == created.json_body["kiosk_id"]
    assert paired.json_body["store_id"] == "store-a"
    survey = paired.json_body["survey"]
    assert survey["scale"] == {"kind": "smiley", "min": 1, "max": 5}
    assert survey["question"]["zh-CN"]
    assert survey["reasons"] == ["wait_time", "staff", "cleanliness", "product", "price", "other"]
    assert survey["callback_at_or_below"] == 2
    assert posted.json_body["results"][0]["status"] == "stored"


def test_a_pairing_code_works_once(api, staff_headers, store):
    code = create_kiosk(api, staff_headers).json_body["pairing_code"]

    first, second = pair(api, code), pair(api, code)

    assert first.status_code == 201
    assert second.status_code == 401
    assert second.json_body["error"]["code"] == "invalid_pairing_code"


def test_an_expired_pairing_code_is_refused(api, store):
    past = now() - timedelta(hours=1)
    kiosk = Kiosk(kiosk_id="k-old", store_id="store-a", status="pending", created_at=past)
    assert stores.create_kiosk(kiosk, "123456", past + timedelta(minutes=15))

    response = pair(api, "123456")

    assert response.status_code == 401


@pytest.mark.parametrize("code", ["12345", "abcdef", "1234567", ""])
def test_a_malformed_pairing_code_gets_400(api, store, code):
    response = pair(api, code)

    assert response.status_code == 400
    assert response.json_body["error"]["details"][0]["field"] == "pairing_code"


def test_the_kiosk_reads_its_survey(api, kiosk_headers, store):
    response = api.http.get("/v1/kiosk/survey", headers=kiosk_headers)

    assert response.status_code == 200
    assert response.json_body["survey_id"] == "default-smiley-5"
    assert response.json_body["store_name"] == "Store store-a"
    assert response.json_body["country"] == "US"


def test_a_revoked_kiosk_is_locked_out(api, staff_headers, store):
    created = create_kiosk(api, staff_headers).json_body
    token = pair(api, created["pairing_code"]).json_body["token"]

    revoked = api.http.post(
        f"/v1/stores/store-a/kiosks/{created['kiosk_id']}/revoke", headers=staff_headers
    )
    posted = api.http.post(
        "/v1/kiosk/ratings", headers=bearer(token), body=json.dumps(rating_batch())
    )
    survey = api.http.get("/v1/kiosk/survey", headers=bearer(token))

    assert revoked.status_code == 200
    assert revoked.json_body["status"] == "revoked"
    assert posted.status_code == 401
    assert "revoked" in posted.json_body["error"]["message"]
    assert survey.status_code == 401


def test_kiosks_are_listed_with_their_status(api, staff_headers, store):
    first = create_kiosk(api, staff_headers).json_body
    create_kiosk(api, staff_headers)
    pair(api, first["pairing_code"])

    response = api.http.get("/v1/stores/store-a/kiosks", headers=staff_headers)

    statuses = [(k["kiosk_id"], k["status"]) for k in response.json_body["kiosks"]]
    assert statuses[0] == (first["kiosk_id"], "paired")
    assert statuses[1][1] == "pending"


def test_staff_of_another_store_get_403(api, store):
    other = bearer(issue_staff_token("bob", "staff", ["store-b"], now()))

    created = create_kiosk(api, other, "store-a")
    listed = api.http.get("/v1/stores/store-a/kiosks", headers=other)

    assert created.status_code == 403
    assert listed.status_code == 403
    assert created.json_body["error"]["code"] == "forbidden"


def test_an_admin_manages_any_store_and_unknown_ones_are_404(api, store):
    admin = bearer(issue_staff_token("root", "admin", [], now()))

    created = create_kiosk(api, admin, "store-b")
    unknown_store = create_kiosk(api, admin, "nowhere")
    unknown_kiosk = api.http.post("/v1/stores/store-b/kiosks/k-nope/revoke", headers=admin)

    assert created.status_code == 201
    assert unknown_store.status_code == 404
    assert unknown_kiosk.status_code == 404


def test_a_kiosk_token_cannot_manage_kiosks(api, kiosk_headers, store):
    response = create_kiosk(api, kiosk_headers)

    assert response.status_code == 401


def wrong_code(right: str) -> str:
    return f"{(int(right) + 1) % 1_000_000:06d}"


def test_a_client_guessing_codes_is_stopped_with_429_and_retry_after(api, staff_headers, store):
    code = create_kiosk(api, staff_headers).json_body["pairing_code"]

    guesses = [pair(api, wrong_code(code)) for _ in range(6)]
    right = pair(api, code)

    assert [g.status_code for g in guesses] == [401] * 5 + [429]
    limited = guesses[-1]
    assert limited.json_body["error"]["code"] == "rate_limited"
    assert 1 <= int(limited.headers["Retry-After"]) <= 900
    # Even the right code waits out the window: a guesser cannot tell it from a wrong one.
    assert right.status_code == 429


def test_right_codes_do_not_use_up_the_limit(api, staff_headers, store):
    codes = [create_kiosk(api, staff_headers).json_body["pairing_code"] for _ in range(7)]

    paired = [pair(api, code) for code in codes]

    assert [p.status_code for p in paired] == [201] * 7


def test_guesses_from_everyone_together_are_limited(api, staff_headers, store, monkeypatch):
    from chalicelib.config import settings

    # One client here (the test client's address), so the per-client limit is lifted to
    # show the limit on all clients together.
    monkeypatch.setenv("STOREPULSE_PAIRING_TRIES_PER_CLIENT", "100")
    monkeypatch.setenv("STOREPULSE_PAIRING_TRIES_PER_WINDOW", "8")
    settings.cache_clear()
    code = create_kiosk(api, staff_headers).json_body["pairing_code"]

    guesses = [pair(api, wrong_code(code)).status_code for _ in range(9)]
    settings.cache_clear()

    assert guesses == [401] * 8 + [429]


def test_the_window_ends_and_the_client_may_try_again(storage):
    from datetime import UTC, datetime

    from chalicelib.storage import limits

    start = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    window = limits.Window.at(start, 900)
    later = limits.Window.at(start + timedelta(seconds=900), 900)
    client = [limits.Limit("pairing-client:203.0.113.7", 2)]

    tries = [limits.count_attempt(client, window) for _ in range(3)]
    other_client = limits.count_attempt([limits.Limit("pairing-client:198.51.100.1", 2)], window)

    assert tries == [True, True, False]
    assert other_client is True
    assert limits.count_attempt(client, later) is True
    assert window.seconds_left(start + timedelta(seconds=300)) == 600
