"""Weekly digests: the claim that a store's digest of one week is sent, so that it goes out
once however many hourly runs find it due.

Key format
  digest claim: pk = DIGEST#<store_id>, sk = WEEK#<the store-local ISO week, YYYY-Www>
                claim_id (the run's), claimed_at, expires_at (TTL: DIGEST_CLAIM_KEPT after
                the claim, long after the week can be due again)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import uuid4

from botocore.exceptions import ClientError

from ..domain.digest import week_label
from .dynamodb import (
    client,
    error_code,
    raw_item,
    table_name,
    to_item,
    unavailable_on_failure,
    utc_iso,
)

DIGEST_CLAIM_KEPT = timedelta(days=90)


@dataclass(frozen=True)
class DigestClaim:
    """A store's digest of one week, claimed by one run (`claim_id`)."""

    store_id: str
    week: str
    claim_id: str


def _key(store_id: str, week: str) -> dict[str, str]:
    return {"pk": f"DIGEST#{store_id}", "sk": f"WEEK#{week}"}


def claim_digest(store_id: str, week_start: datetime, now: datetime) -> DigestClaim | None:
    """Claim the store's digest of the week from `week_start` (store-local): None when it is
    claimed already. One conditional PutItem, so of overlapping runs exactly one claims; a
    claim whose first answer was lost (botocore sent it again) is still recognised as ours
    by its claim_id."""
    claim = DigestClaim(store_id, week_label(week_start), uuid4().hex)
    item = _key(store_id, claim.week) | {
        "type": "digest_claim",
        "claim_id": claim.claim_id,
        "claimed_at": utc_iso(now, "seconds"),
        "expires_at": int((now + DIGEST_CLAIM_KEPT).timestamp()),
    }
    try:
        with unavailable_on_failure():
            client().put_item(
                TableName=table_name(),
                Item=to_item(item),
                ConditionExpression="attribute_not_exists(pk)",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
    except ClientError as error:
        if error_code(error) != "ConditionalCheckFailedException":
            raise
        stored: dict[str, Any] = error.response.get("Item") or {}  # type: ignore[assignment]
        return claim if stored.get("claim_id") == {"S": claim.claim_id} else None
    return claim


def release_digest(claim: DigestClaim) -> None:
    """Undo a claim whose digest could not be published, so the next run tries again; only
    if it is still this claim."""
    try:
        with unavailable_on_failure():
            client().delete_item(
                TableName=table_name(),
                Key=to_item(_key(claim.store_id, claim.week)),
                ConditionExpression="claim_id = :ours",
                ExpressionAttributeValues=to_item({":ours": claim.claim_id}),
            )
    except ClientError as error:
        if error_code(error) != "ConditionalCheckFailedException":
            raise


def stored_digest_claim(store_id: str, week_start: datetime) -> dict[str, Any] | None:
    """The claim of the store's digest of that week as stored (tests look at it)."""
    return raw_item(_key(store_id, week_label(week_start)))
