"""POST /v1/kiosk/ratings end to end through the Chalice app, on moto and on DynamoDB Local."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from chalicelib import config
from chalicelib.flows import kiosk_ingest
from chalicelib.storage import dynamodb, ratings
from tests.conftest import iso, kiosk_rating, now, rating_batch
from tests.integration.callers import post
from tests.integration.factories import stored_ratings


def test_stores_a_rating_with_the_clock_skew_corrected(api, kiosk_headers, store):
    kiosk_clock_offset = timedelta(hours=-3)  # the tablet's clock is three hours behind
    tapped = now() + kiosk_clock_offset - timedelta(minutes=2)
    rating = kiosk_rating(tapped_at=iso(tapped), reasons=["staff"], comment="  slow till  ")

    response = post(api, kiosk_headers, rating_batch(rating, sent_at=now() + kiosk_clock_offset))

    assert response.status_code == 200
    assert response.json_body == {
        "results": [{"rating_id": rating["rating_id"], "status": "stored"}]
    }
    saved = ratings.get_rating(rating["rating_id"])
    assert saved is not None
    assert saved.store_id == store.store_id
    assert saved.channel == "kiosk"
    assert saved.comment == "slow till"
    assert abs(saved.tapped_at - (now() - timedelta(minutes=2))) < timedelta(seconds=5)
    assert saved.device_tapped_at == tapped


def test_a_retried_batch_answers_duplicate_and_counts_once(api, kiosk_headers, store):
    batch = rating_batch(kiosk_rating(), kiosk_rating())

    first = post(api, kiosk_headers, batch)
    retry = post(api, kiosk_headers, batch)

    assert [r["status"] for r in first.json_body["results"]] == ["stored", "stored"]
    assert [r["status"] for r in retry.json_body["results"]] == ["duplicate", "duplicate"]
    assert len(stored_ratings()) == 2


def test_the_same_rating_twice_in_one_batch_is_stored_once(api, kiosk_headers, store):
    rating = kiosk_rating()

    response = post(api, kiosk_headers, rating_batch(rating, rating))

    assert [r["status"] for r in response.json_body["results"]] == ["stored", "duplicate"]
    assert len(stored_ratings()) == 1


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"score": 9}, "score must be between 1 and 5"),
        ({"score": "4"}, "valid integer"),
        ({"rating_id": "not-a-uuid"}, "rating_id"),
        ({"tapped_at": "yesterday"}, "tapped_at"),
        ({"tapped_at": "2026-01-01T10:00:00"}, "timezone"),
        ({"reasons": ["smell"]}, "unknown reasons ['smell']"),
        ({"locale": "fr"}, "locale must be one of"),
        ({"comment": "x" * 501}, "at most 500 characters"),
        (
            {"score": 1, "callback": {"phone": "+14155550123", "name": None, "consent": False}},
            "consent",
        ),
        ({"score": 1, "callback": {"phone": "+14155550123"}}, "callback.consent"),
        ({"score": 1, "callback": {"phone": "4155550123", "consent": True}}, "E.164"),
        ({"score": 1, "callback": {"phone": "+10005550123", "consent": True}}, "not a valid"),
        (
            {"score": 5, "callback": {"phone": "+14155550123", "consent": True}},
            "only offered for scores of 2 or less",
        ),
        ({"store_id": "store-b"}, "extra"),
    ],
)
def test_an_invalid_rating_is_rejected_with_its_reason_and_the_others_stored(
    api, kiosk_headers, store, overrides, reason
):
    good, bad = kiosk_rating(), kiosk_rating(**overrides)

    response = post(api, kiosk_headers, rating_batch(good, bad))

    assert response.status_code == 200
    stored, rejected = response.json_body["results"]
    assert stored == {"rating_id": good["rating_id"], "status": "stored"}
    assert rejected["status"] == "rejected"
    assert rejected["error"]["code"] == "invalid_rating"
    assert reason.lower() in rejected["error"]["message"].lower()
    assert [r["rating_id"] for r in stored_ratings()] == [good["rating_id"]]


def test_a_callback_with_consent_keeps_the_contact_for_the_callback(api, kiosk_headers, store):
    callback = {"phone": "+14155550123", "name": "Ana", "consent": True}
    rating = kiosk_rating(score=1, reasons=["wait_time"], callback=callback)

    response = post(api, kiosk_headers, rating_batch(rating))

    assert response.json_body["results"][0]["status"] == "stored"
    saved = ratings.get_rating(rating["rating_id"])
    assert saved is not None
    assert saved.contact is not None
    assert saved.contact.phone == "+14155550123"


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ("{not json", 400, "malformed_json"),
        ("", 400, "malformed_json"),
        ("[1, 2]", 400, "bad_request"),
        ({"sent_at": "2026-11-25T10:00:00Z", "ratings": []}, 400, "bad_request"),
        ({"ratings": [{}]}, 400, "bad_request"),
        ({"sent_at": "2026-11-25T10:00:00Z", "ratings": [{}] * 101}, 400, "bad_request"),
        ({"sent_at": "now", "ratings": [{}]}, 400, "bad_request"),
        ({"sent_at": "2026-11-25T10:00:00Z", "ratings": [{}], "store_id": "b"}, 400, "bad_request"),
    ],
)
def test_a_malformed_batch_gets_a_clear_400_and_nothing_is_stored(
    api, kiosk_headers, store, body, status, code
):
    response = post(api, kiosk_headers, body)

    assert response.status_code == status
    assert response.json_body["error"]["code"] == code
    assert response.json_body["error"]["message"]
    assert stored_ratings() == []


def test_the_failing_fields_are_named_in_the_details(api, kiosk_headers, store):
    response = post(api, kiosk_headers, {"ratings": []})

    fields = {d["field"] for d in response.json_body["error"]["details"]}
    assert fields == {"sent_at", "ratings"}


def test_a_wrong_content_type_gets_415(api, kiosk_headers, store):
    headers = kiosk_headers | {"Content-Type": "text/plain"}

    response = post(api, headers, rating_batch())

    assert response.status_code == 415
    assert response.json_body["error"]["code"] == "unsupported_media_type"
    assert stored_ratings() == []


def test_an_oversized_body_gets_413(api, kiosk_headers, store):
    batch = rating_batch(kiosk_rating(comment="x" * 400_000))

    response = post(api, kiosk_headers, batch)

    assert response.status_code == 413
    assert response.json_body["error"]["code"] == "payload_too_large"
    assert stored_ratings() == []


@pytest.mark.parametrize(
    ("authorization", "message"),
    [
        (None, "Authorization: Bearer"),
        ("Basic abc", "Authorization: Bearer"),
        ("Bearer not.a.token", "not valid"),
    ],
)
def test_a_missing_or_malformed_token_gets_401(api, store, authorization, message):
    headers = {"Content-Type": "application/json"}
    if authorization:
        headers["Authorization"] = authorization

    response = post(api, headers, rating_batch())

    assert response.status_code == 401
    assert message in response.json_body["error"]["message"]
    assert stored_ratings() == []


def test_a_forged_token_gets_401(api, store):
    import jwt

    claims = {"iss": "storepulse", "aud": "kiosk", "sub": "k-evil", "store": store.store_id}
    forged = jwt.encode(
        claims | {"iat": 1, "exp": 4102444800}, "guessed-key" * 4, algorithm="HS256"
    )

    response = post(api, {"Authorization": f"Bearer {forged}"}, rating_batch())

    assert response.status_code == 401
    assert stored_ratings() == []


def test_a_staff_token_is_not_a_kiosk_token(api, staff_headers, store):
    response = post(api, staff_headers, rating_batch())

    assert response.status_code == 401
    assert "not a kiosk token" in response.json_body["error"]["message"]


class FailingPuts:
    """The real client, but the PutItem of the ratings in `failing` fails as DynamoDB's
    `code` (the others go through); `after_the_write`: the item is written, then it fails."""

    def __init__(self, real: Any, failing: set[str], code: str, after_the_write: bool = False):
        self.real, self.failing, self.code, self.after = real, failing, code, after_the_write

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)

    def put_item(self, **kwargs: Any) -> Any:
        item = str(kwargs["Item"])  # the rating id is in its key
        if not any(rating_id in item for rating_id in self.failing):
            return self.real.put_item(**kwargs)
        if self.after:
            self.real.put_item(**kwargs)
        status = 400 if "Throughput" in self.code else 500
        error = {"Error": {"Code": self.code}, "ResponseMetadata": {"HTTPStatusCode": status}}
        raise ClientError(error, "PutItem")  # type: ignore[arg-type]


def failing_puts(patched, failing, code="ProvisionedThroughputExceededException", **kw):
    """Within `patched` (a monkeypatch context, undone before the storage fixture's own
    teardown clears the real client's cache)."""
    fake = FailingPuts(dynamodb.client(), set(failing), code, **kw)
    patched.setattr(dynamodb, "client", lambda: fake)


@pytest.mark.parametrize(
    ("code", "after_the_write"),
    [
        ("ProvisionedThroughputExceededException", False),
        ("InternalFailure", False),
        ("InternalServerError", True),  # the write happened, the answer says it failed
    ],
)
def test_failed_writes_answer_retry_the_others_stored_and_a_resend_completes_it(
    api, kiosk_headers, store, monkeypatch, code, after_the_write
):
    batch = rating_batch(kiosk_rating(), kiosk_rating(), kiosk_rating())
    ids = [r["rating_id"] for r in batch["ratings"]]
    with monkeypatch.context() as patched:
        failing_puts(patched, {ids[1], ids[2]}, code, after_the_write=after_the_write)
        first = post(api, kiosk_headers, batch)
    resend = post(api, kiosk_headers, rating_batch(*batch["ratings"][1:]))

    assert first.status_code == 200
    assert first.headers["Retry-After"] == "5"
    assert first.json_body["results"] == [
        {"rating_id": ids[0], "status": "stored"},
        {"rating_id": ids[1], "status": "retry"},
        {"rating_id": ids[2], "status": "retry"},
    ]
    again = "duplicate" if after_the_write else "stored"
    assert [r["status"] for r in resend.json_body["results"]] == [again, again]
    assert "Retry-After" not in resend.headers
    assert sorted(r["rating_id"] for r in stored_ratings()) == sorted(ids)  # each once


def test_when_no_write_succeeds_the_answer_is_503_with_each_ratings_status(
    api, kiosk_headers, store, monkeypatch
):
    good, bad, again = kiosk_rating(), kiosk_rating(score=9), kiosk_rating()
    batch = rating_batch(good, bad, again, good)
    with monkeypatch.context() as patched:
        failing_puts(patched, {good["rating_id"], again["rating_id"]}, "ServiceUnavailable")
        response = post(api, kiosk_headers, batch)

    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert response.json_body["error"]["code"] == "unavailable"
    assert response.json_body["error"]["details"] == [
        {"rating_id": good["rating_id"], "status": "retry"},
        {"rating_id": bad["rating_id"], "status": "rejected"},
        {"rating_id": again["rating_id"], "status": "retry"},
        {"rating_id": good["rating_id"], "status": "retry"},  # twice in the batch: both retry
    ]
    assert stored_ratings() == []


def test_a_batch_with_nothing_to_write_is_a_200(api, kiosk_headers, store, monkeypatch):
    with monkeypatch.context() as patched:
        failing_puts(patched, set())
        response = post(api, kiosk_headers, rating_batch(kiosk_rating(score=9)))

    assert response.status_code == 200
    assert [r["status"] for r in response.json_body["results"]] == ["rejected"]
    assert "Retry-After" not in response.headers


def test_no_write_starts_when_one_call_would_outlast_the_deadline(
    api, kiosk_headers, store, monkeypatch
):
    batch = rating_batch(kiosk_rating(), kiosk_rating())
    # One call's worst case is longer than what is left of the request's deadline.
    monkeypatch.setattr(kiosk_ingest, "worst_call_s", lambda: config.settings().ingest_deadline_s)

    response = post(api, kiosk_headers, batch)

    assert response.status_code == 503
    assert [d["status"] for d in response.json_body["error"]["details"]] == ["retry", "retry"]
    assert stored_ratings() == []


def test_an_unreachable_database_answers_503(api, kiosk_headers, store, monkeypatch):
    from chalicelib.storage import stores

    monkeypatch.setenv("STOREPULSE_DYNAMODB_ENDPOINT", "http://127.0.0.1:9")
    from tests.conftest import reset_caches

    reset_caches()
    stores.clear_caches()

    response = post(api, kiosk_headers, rating_batch())

    assert response.status_code == 503
    assert "Retry-After" in response.headers


def test_a_burst_of_repeat_presses_is_stored_but_marked(api, kiosk_headers, store):
    hammered = [
        kiosk_rating(score=1, tapped_at=iso(now() - timedelta(seconds=60 - 4 * i)))
        for i in range(5)
    ]
    customer = kiosk_rating(score=4, tapped_at=iso(now() - timedelta(minutes=10)))

    response = post(api, kiosk_headers, rating_batch(customer, *hammered))

    assert {r["status"] for r in response.json_body["results"]} == {"stored"}
    marked = {r["rating_id"]: r["burst"] for r in stored_ratings()}
    assert marked[customer["rating_id"]] is False
    assert [marked[r["rating_id"]] for r in hammered] == [False, True, True, True, True]
