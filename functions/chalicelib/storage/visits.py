"""Visits: which answer of a visit counts (the first received), and the number a store
system gave for it, for a callback that asks for no number again.

Key formats (`<visit_id>`: domain/visits.py's, a hash of the store id and the visit ref)
  answer:  pk = VISIT#<visit_id>, sk = ANSWER   rating_id, channel, answered_at, expires_at
  phone:   pk = VISIT#<visit_id>, sk = PHONE    phone, expires_at (the invitation's expiry)

The answer is claimed with a conditional put: the first rating of the visit holds it, and
a retry of that rating holds it again (the condition names its id), so a resend is never
taken for a second answer.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from ..domain.ratings import Rating
from ..domain.visits import visit_id
from .dynamodb import (
    client,
    from_item,
    put_if,
    table_name,
    to_item,
    unavailable_on_failure,
    utc_iso,
)

# How long an answer holds its visit: longer than any invitation waits, or a kiosk queue.
ANSWER_KEPT = timedelta(days=90)
_PREFIX = "VISIT#"


def _key(store_id: str, visit_ref: str, sk: str) -> dict[str, str]:
    return {"pk": f"{_PREFIX}{visit_id(store_id, visit_ref)}", "sk": sk}


def claim_answer(store_id: str, visit_ref: str, rating_id: str, channel: str, at: datetime) -> bool:
    """True if this rating is the visit's answer that counts (the first, or a resend of
    it); False if another rating of the visit came first."""
    item = _key(store_id, visit_ref, "ANSWER") | {
        "rating_id": rating_id,
        "channel": channel,
        "answered_at": utc_iso(at, "milliseconds"),
        "expires_at": int((at + ANSWER_KEPT).timestamp()),
    }
    return put_if(
        to_item(item),
        "attribute_not_exists(pk) OR rating_id = :rating",
        {":rating": rating_id},
    )


def counted(rating: Rating) -> Rating:
    """The rating to store: as it is, or marked `same_visit` when another rating of its
    visit holds the visit's answer (one write: the claim; none for a rating of no visit)."""
    if not rating.visit_ref or rating.same_visit:
        return rating
    first = claim_answer(
        rating.store_id, rating.visit_ref, rating.rating_id, rating.channel, rating.received_at
    )
    return rating if first else rating.model_copy(update={"same_visit": True})


def answered(store_id: str, visit_ref: str) -> bool:
    """Whether any answer of the visit was received (strongly consistent)."""
    with unavailable_on_failure():
        response = client().get_item(
            TableName=table_name(),
            Key=to_item(_key(store_id, visit_ref, "ANSWER")),
            ConsistentRead=True,
            ProjectionExpression="pk",
        )
    return "Item" in response


def keep_phone(store_id: str, visit_ref: str, phone: str, until: datetime) -> None:
    """The number a store system gave for the visit, until `until` (the invitation's
    expiry): a callback asked for on the kiosk or the link survey may use it."""
    item = _key(store_id, visit_ref, "PHONE") | {
        "phone": phone,
        "expires_at": int(until.timestamp()),
    }
    with unavailable_on_failure():
        client().put_item(TableName=table_name(), Item=to_item(item))


def phone_of(store_id: str, visit_ref: str, at: datetime) -> str | None:
    """The visit's number, if a store system gave one that has not expired by `at` (TTL
    deletes an item some time after it expires: its expiry is checked here)."""
    with unavailable_on_failure():
        response = client().get_item(
            TableName=table_name(),
            Key=to_item(_key(store_id, visit_ref, "PHONE")),
            ConsistentRead=True,
        )
    values = from_item(response["Item"]) if "Item" in response else None
    if values is None or int(values["expires_at"]) <= at.timestamp():
        return None
    return str(values["phone"])
