"""Ratings: one immutable item each, plus its entry in the `arrivals` index.

Key formats
  item:     pk = RATING#<rating_id>, sk = RATING
  arrivals: gsi1pk = ARRIVAL#<received hour, UTC, YYYY-MM-DDTHH>#<shard>,
            gsi1sk = <received_at ISO-8601 UTC>#<rating_id>
The arrivals index is how aggregation reads "what arrived since the last run" with a few
Queries instead of a scan. Its projection (infra/resources.yaml) carries only what
aggregation and flagging need, so an index entry stays under one write unit.
"""

from __future__ import annotations

import zlib
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from ..domain.ratings import Rating
from .dynamodb import client, error_code, from_item, table_name, to_item, unavailable_on_failure

# Spreads one hour's arrivals over this many index partitions. Readers query every shard,
# so changing it needs a migration of the unread hours: keep it fixed.
ARRIVAL_SHARDS = 4


def rating_key(rating_id: str) -> dict[str, str]:
    return {"pk": f"RATING#{rating_id}", "sk": "RATING"}


def arrival_partition(received_at: datetime, rating_id: str) -> str:
    shard = zlib.crc32(rating_id.encode()) % ARRIVAL_SHARDS
    return f"ARRIVAL#{received_at.astimezone(UTC):%Y-%m-%dT%H}#{shard}"


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds") if moment else None


def rating_item(rating: Rating) -> dict[str, Any]:
    received_at = _iso(rating.received_at)
    values: dict[str, Any] = {
        **rating_key(rating.rating_id),
        "type": "rating",
        "gsi1pk": arrival_partition(rating.received_at, rating.rating_id),
        "gsi1sk": f"{received_at}#{rating.rating_id}",
        "rating_id": rating.rating_id,
        "store_id": rating.store_id,
        "channel": rating.channel,
        "source_id": rating.source_id,
        "survey_id": rating.survey_id,
        "score": rating.score,
        "reasons": rating.reasons or None,
        "comment": rating.comment,
        "locale": rating.locale,
        "expectation": rating.expectation,
        "tapped_at": _iso(rating.tapped_at),
        "received_at": received_at,
        "device_tapped_at": _iso(rating.device_tapped_at),
        "device_sent_at": _iso(rating.device_sent_at),
        "callback_requested": rating.contact is not None or None,
        # Held only until the callback job copies it into a task (which expires by TTL).
        "contact": rating.contact.model_dump(exclude_none=True) if rating.contact else None,
    }
    return to_item(values)


def put_rating(rating: Rating) -> bool:
    """Store a rating once. True if stored, False if that rating_id is already stored.

    The write is conditional on the key not existing, so a retried batch (same client-made
    rating_id) can never count twice, and no read is needed first.
    """
    try:
        with unavailable_on_failure():
            client().put_item(
                TableName=table_name(),
                Item=rating_item(rating),
                ConditionExpression="attribute_not_exists(pk)",
            )
    except ClientError as error:
        if error_code(error) == "ConditionalCheckFailedException":
            return False
        raise
    return True


def get_rating(rating_id: str) -> Rating | None:
    """A stored rating by id (strongly consistent), or None."""
    with unavailable_on_failure():
        response = client().get_item(
            TableName=table_name(), Key=to_item(rating_key(rating_id)), ConsistentRead=True
        )
    if "Item" not in response:
        return None
    return Rating.model_validate(from_item(response["Item"]))
