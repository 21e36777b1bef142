"""SMS callback requests: an SMS customer answered YES to the callback offer, and waits for
the callback job to turn the request into a task.

Key format
  request:  pk = CALLBACK_REQUESTS, sk = SMS#<conversation id>
            store_id, rating_id, score, comment, phone, requested_at;
            expires_at: the phone retention
The conversation's last step writes the request in its transaction (`request_item`), so a
retried message neither loses nor repeats it. All requests share one partition: there are
few at a time (the job takes each within minutes), and the job reads them in one Query. The
item holds a phone number, so it expires by TTL; TTL deletes lazily, so `pending` checks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from ..config import settings
from ..domain.sms_conversation import Conversation
from .dynamodb import (
    client,
    from_item,
    query_all,
    table_name,
    to_item,
    unavailable_on_failure,
    utc_iso,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

_PARTITION = "CALLBACK_REQUESTS"
_PREFIX = "SMS#"


@dataclass(frozen=True)
class SmsCallbackRequest:
    """An SMS customer waiting to be called back."""

    conversation_id: str
    store_id: str
    rating_id: str | None  # None if the conversation stored no rating
    score: int | None
    comment: str | None
    phone: str
    requested_at: datetime


def _key(conversation_id: str) -> dict[str, str]:
    return {"pk": _PARTITION, "sk": f"{_PREFIX}{conversation_id}"}


def request_item(conversation: Conversation, now: datetime) -> dict[str, Any]:
    """The transaction item that records the conversation's callback request."""
    retention = timedelta(days=settings().phone_retention_days)
    item = _key(conversation.conversation_id) | {
        "type": "callback_request",
        "channel": "sms",
        "store_id": conversation.store_id,
        "rating_id": conversation.rating_id,
        "score": conversation.score,
        "comment": conversation.comment,
        "phone": conversation.phone,
        "requested_at": utc_iso(now, "seconds"),
        "expires_at": int((now + retention).timestamp()),
    }
    return {"Put": {"TableName": table_name(), "Item": to_item(item)}}


def _request(item: dict[str, Any]) -> SmsCallbackRequest:
    return SmsCallbackRequest(
        conversation_id=str(item["sk"]).removeprefix(_PREFIX),
        store_id=str(item["store_id"]),
        rating_id=str(item["rating_id"]) if "rating_id" in item else None,
        score=int(item["score"]) if "score" in item else None,
        comment=str(item["comment"]) if "comment" in item else None,
        phone=str(item["phone"]),
        requested_at=datetime.fromisoformat(str(item["requested_at"])),
    )


def pending(now: datetime) -> list[SmsCallbackRequest]:
    """SMS customers waiting to be flagged; expired requests (the phone's retention has
    passed, TTL not yet swept) are left out."""
    items = query_all(
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues=to_item({":pk": _PARTITION}),
        ConsistentRead=True,
    )
    return [_request(item) for item in items if int(item["expires_at"]) > now.timestamp()]


def conversation_id_of(key: dict[str, Any]) -> str | None:
    """The conversation of a request's key (a stream record's), or None if it is not one."""
    sk = str(key.get("sk", ""))
    return (
        sk.removeprefix(_PREFIX) if key.get("pk") == _PARTITION and sk.startswith(_PREFIX) else None
    )


def get_request(conversation_id: str, now: datetime) -> SmsCallbackRequest | None:
    """A request still waiting (strongly consistent), or None: flagged and forgotten, or
    expired."""
    with unavailable_on_failure():
        response = client().get_item(
            TableName=table_name(), Key=to_item(_key(conversation_id)), ConsistentRead=True
        )
    item = from_item(response["Item"]) if "Item" in response else None
    return _request(item) if item and int(item["expires_at"]) > now.timestamp() else None


def forget(conversation_id: str) -> None:
    """The request is a task now (or cannot become one): it leaves the queue."""
    with unavailable_on_failure():
        client().delete_item(TableName=table_name(), Key=to_item(_key(conversation_id)))


def stored_requests(
    *, ddb: DynamoDBClient | None = None, table: str | None = None
) -> list[SmsCallbackRequest]:
    """Every request as stored, expired or not (tests and devtools; `ddb` and `table`:
    another stack's)."""
    response = (ddb or client()).query(
        TableName=table or table_name(),
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues=to_item({":pk": _PARTITION}),
        ConsistentRead=True,
    )
    return [_request(from_item(item)) for item in response["Items"]]
