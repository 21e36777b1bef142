"""The app's callers as the integration tests play them: a kiosk posting a batch of ratings
(`post`), a store's system inviting a customer to the SMS survey (`invite_by_api`) and the
customer's phone texting the Twilio webhook (`Phone`, `invited_sms_customer`), an unhappy
kiosk customer asking for a callback (`unhappy`) and staff listing their tasks (`tasks`)."""

from __future__ import annotations

import json
import os
from typing import Any
from urllib.parse import urlencode

from twilio.request_validator import RequestValidator

from tests.conftest import bearer, kiosk_rating, now, rating_batch

RATINGS_PATH = "/v1/kiosk/ratings"
WEBHOOK = os.environ["STOREPULSE_TWILIO_WEBHOOK_URL"]
TWILIO_TOKEN = os.environ["STOREPULSE_SECRET_STOREPULSE_TWILIO_AUTH_TOKEN"]
PHONE = "+14155550123"


def post(api: Any, headers: dict[str, str], body: Any) -> Any:
    """POST a batch (a dict, or a raw body as it is) to the kiosk ingest route."""
    raw = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return api.http.post(RATINGS_PATH, headers=headers, body=raw)


def invite_by_api(
    api: Any, headers: dict[str, str], phone: str = PHONE, store_id: str = "store-a", **extra: Any
) -> Any:
    """POST an SMS survey invitation (any other field of it as a keyword)."""
    body = {"phone": phone, "store_id": store_id, **extra}
    return api.http.post("/v1/surveys/invitations", headers=headers, body=json.dumps(body))


class Phone:
    """A customer's phone texting the Twilio webhook, signed the way Twilio signs."""

    def __init__(self, api: Any, number: str = PHONE) -> None:
        self.api, self.number, self.count = api, number, 0

    def send(self, body: str, sid: str | None = None, signature: str | None = "sign") -> Any:
        self.count += 1
        params = {
            "MessageSid": sid or f"SM{self.number[-4:]}{self.count:04d}",
            "From": self.number,
            "To": "+15005550006",
            "Body": body,
            "NumMedia": "0",
        }
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if signature == "sign":
            signature = RequestValidator(TWILIO_TOKEN).compute_signature(WEBHOOK, params)
        if signature is not None:
            headers["X-Twilio-Signature"] = signature
        return self.api.http.post("/v1/sms/twilio", headers=headers, body=urlencode(params))


def unhappy(api, kiosk_headers, phone=PHONE, score=1, **extra) -> dict[str, Any]:
    callback = {"phone": phone, "name": "Ana", "consent": True}
    rating = kiosk_rating(score=score, reasons=["wait_time"], callback=callback, **extra)
    response = api.http.post(
        "/v1/kiosk/ratings", headers=kiosk_headers, body=json.dumps(rating_batch(rating))
    )
    assert response.json_body["results"][0]["status"] == "stored"
    return rating


def tasks(api, headers, status="open", store_id="store-a") -> list[dict[str, Any]]:
    response = api.http.get(f"/v1/callbacks?store_id={store_id}&status={status}", headers=headers)
    assert response.status_code == 200, response.json_body
    return list(response.json_body["tasks"])


def invited_sms_customer(api: Any, number: str) -> Any:
    """A customer of store-a invited to the SMS survey: their phone, to answer with."""
    from chalicelib.auth import issue_integration_token

    integration = bearer(issue_integration_token("pos", ["store-a"], now()))
    invited = invite_by_api(api, integration, number)
    assert invited.json_body["status"] == "sent", invited.json_body
    return Phone(api, number)
