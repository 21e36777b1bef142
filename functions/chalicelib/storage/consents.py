"""Consent records: one per phone number and purpose, keyed by the number's HMAC.

Key format (`<key>` is the keyed HMAC of the phone number, never the number itself)
  consent:  pk = PHONE#<key>, sk = CONSENT#<purpose>   (purpose: callback | sms_survey)
            channel, version, locale, given_at, source, withdrawn_at;
            expires_at: the purpose's end plus domain.consent.KEPT_AFTER_PURPOSE
Times are ISO-8601 UTC to the millisecond, so the conditions below compare them as strings.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from ..config import settings
from ..domain.consent import (
    KEPT_AFTER_PURPOSE,
    ConsentRecord,
    ConsentSummary,
    Purpose,
    purpose_end,
)
from .dynamodb import (
    client,
    from_item,
    put_if,
    raw_item,
    table_name,
    to_item,
    unavailable_on_failure,
    utc_iso,
)


def _key(key: str, purpose: Purpose) -> dict[str, str]:
    return {"pk": f"PHONE#{key}", "sk": f"CONSENT#{purpose}"}


def _iso(moment: datetime) -> str:
    return utc_iso(moment, "milliseconds")  # see the module docstring


def purpose_lasts(purpose: Purpose) -> timedelta:
    """How long a purpose lasts after consent to it: a callback as long as the number is
    kept for the call, an SMS survey as long as the invitation can be answered."""
    config = settings()
    if purpose == "callback":
        return timedelta(days=config.phone_retention_days)
    return timedelta(hours=config.invitation_ttl_hours)


def _item(key: str, record: ConsentRecord) -> dict[str, Any]:
    expires_at = record.expires_at(purpose_lasts(record.purpose))
    return to_item(
        _key(key, record.purpose)
        | {
            "type": "consent",
            "channel": record.channel,
            "version": record.version,
            "locale": record.locale,
            "given_at": _iso(record.given_at),
            "source": record.source,
            "withdrawn_at": _iso(record.withdrawn_at) if record.withdrawn_at else None,
            "expires_at": int(expires_at.timestamp()),
        }
    )


def given_item(key: str, record: ConsentRecord) -> dict[str, Any]:
    """The transaction item that records consent given now (with the message or the
    invitation that carries it): it replaces the purpose's earlier record, a withdrawal
    included (consent given again)."""
    return {"Put": {"TableName": table_name(), "Item": _item(key, record)}}


def record_given(key: str, record: ConsentRecord) -> bool:
    """Record consent given at `record.given_at`, unless the record already holds a later
    consent or withdrawal (a re-run of an older one changes nothing); True if written."""
    return put_if(
        _item(key, record),
        "attribute_not_exists(pk) OR ((attribute_not_exists(given_at) OR given_at <= :at) "
        "AND (attribute_not_exists(withdrawn_at) OR withdrawn_at <= :at))",
        {":at": _iso(record.given_at)},
    )


def withdrawal_item(key: str, purpose: Purpose, at: datetime) -> dict[str, Any]:
    """The transaction item that records the purpose's consent withdrawn at `at` (an opt-out):
    what was given stays on the record; a record is made if there was none (a STOP from a
    number never asked is kept as evidence too)."""
    expires_at = purpose_end(None, at, purpose_lasts(purpose)) + KEPT_AFTER_PURPOSE
    return {
        "Update": {
            "TableName": table_name(),
            "Key": to_item(_key(key, purpose)),
            "UpdateExpression": "SET #type = :type, withdrawn_at = :at, expires_at = :expires",
            "ExpressionAttributeNames": {"#type": "type"},
            "ExpressionAttributeValues": to_item(
                {":type": "consent", ":at": _iso(at), ":expires": int(expires_at.timestamp())}
            ),
        }
    }


def get_consent(key: str, purpose: Purpose, now: datetime) -> ConsentRecord | None:
    """The number's record for `purpose`, withdrawn or not; None if consent was never given
    (or its record has expired)."""
    with unavailable_on_failure():
        response = client().get_item(
            TableName=table_name(), Key=to_item(_key(key, purpose)), ConsistentRead=True
        )
    item = from_item(response["Item"]) if "Item" in response else None
    if item is None or "given_at" not in item:
        return None
    if int(item["expires_at"]) <= now.timestamp():
        return None  # TTL deletes lazily
    return ConsentRecord.model_validate(item | {"purpose": purpose})


def callback_consent(key: str, now: datetime) -> ConsentSummary | None:
    """What a callback task shows of the number's consent to be called: given and not
    withdrawn, else None."""
    record = get_consent(key, "callback", now)
    return record.summary() if record and record.withdrawn_at is None else None


def stored_consent(key: str, purpose: Purpose) -> dict[str, Any] | None:
    """The number's record for `purpose` exactly as stored (tests look at what it holds)."""
    return raw_item(_key(key, purpose))
