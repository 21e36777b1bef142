"""The OpenAPI operations of a store's signed webhooks out (`webhook_routes.py`)."""

from __future__ import annotations

from pydantic import Field

from ..domain.webhooks import NewWebhook, WebhookEvent
from .operation import BAD_BODY, BAD_ID, NO_CONTENT, NO_CREDENTIAL, STAFF, Operation
from .schemas import Answer

MANAGERS = "staff, or a manager of another region"
NO_WEBHOOK = "the store, or the webhook in it, does not exist"


class WebhookFailure(Answer):
    at: str
    attempt: int = Field(ge=1)
    outcome: str = Field(description="`HTTP <status>`, or the error (`TimeoutError`, ...)")
    given_up: bool = Field(description="the last attempt: 24 h after the event")
    delivery_id: str


class WebhookView(Answer):
    webhook_id: str
    url: str
    events: list[WebhookEvent]
    created_at: str
    failures: list[WebhookFailure] = Field(description="the latest 20, newest first")


class WebhookList(Answer):
    webhooks: list[WebhookView]


class NewWebhookAnswer(Answer):
    webhook_id: str
    url: str
    events: list[WebhookEvent]
    created_at: str
    secret: str = Field(description="shown once: keep it to verify Storepulse-Signature")


class RotatedSecret(Answer):
    webhook_id: str
    secret: str = Field(description="shown once; the old secret stops signing at once")


OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "POST",
        "/v1/stores/{store_id}/webhooks",
        "create_webhook",
        "webhooks",
        "A new HTTPS endpoint for the store's events, signed with its secret (shown once)",
        STAFF,
        {201: NewWebhookAnswer},
        {
            400: f"{BAD_ID}, or {BAD_BODY}",
            401: NO_CREDENTIAL,
            403: MANAGERS,
            404: "the store does not exist",
            409: "`conflict`: the store has 10 webhooks already",
        },
        body=NewWebhook,
    ),
    Operation(
        "GET",
        "/v1/stores/{store_id}/webhooks",
        "list_webhooks",
        "webhooks",
        "The store's endpoints (no secrets), each with its recent failed deliveries",
        STAFF,
        {200: WebhookList},
        {400: BAD_ID, 401: NO_CREDENTIAL, 403: MANAGERS, 404: "the store does not exist"},
    ),
    Operation(
        "POST",
        "/v1/stores/{store_id}/webhooks/{webhook_id}/rotate",
        "rotate_webhook_secret",
        "webhooks",
        "A new secret for the endpoint (shown once); the old one stops at once",
        STAFF,
        {200: RotatedSecret},
        {400: BAD_ID, 401: NO_CREDENTIAL, 403: MANAGERS, 404: NO_WEBHOOK},
    ),
    Operation(
        "DELETE",
        "/v1/stores/{store_id}/webhooks/{webhook_id}",
        "delete_webhook",
        "webhooks",
        "Remove the endpoint; its pending deliveries are dropped",
        STAFF,
        {204: NO_CONTENT},
        {400: BAD_ID, 401: NO_CREDENTIAL, 403: MANAGERS, 404: NO_WEBHOOK},
    ),
)
