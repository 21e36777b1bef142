"""The app's callers as the integration tests play them: a kiosk posting a batch of ratings
(`post`), a store's system inviting a customer to the SMS survey (`invite_by_api`) and the
customer's phone texting the Twilio webhook (`Phone`)."""

from __future__ import annotations

import json
import os
from typing import Any
from urllib.parse import urlencode

from twilio.request_validator import RequestValidator

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
