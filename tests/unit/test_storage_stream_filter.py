"""The stream's filter (infra/resources.yaml, applied by Lambda in AWS and by
devtools/stream_poller.py locally) lets through exactly the inserts that flagging acts on:
a rating with a callback request, an SMS callback request; nothing else the table writes.
A storage test: the filter matches the stored layout, so these tests spell keys."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from chalicelib.domain.ratings import Contact, Rating
from chalicelib.storage import callback_requests
from chalicelib.storage.dynamodb import to_item
from chalicelib.storage.ratings import rating_id_of, rating_item
from devtools.stream_poller import deployed_filters, matches

pytestmark = pytest.mark.unit

AT = datetime(2026, 12, 5, 9, 30, tzinfo=UTC)


def record(item: dict[str, Any], event: str = "INSERT") -> dict[str, Any]:
    keys = {name: item[name] for name in ("pk", "sk")}
    return {"eventName": event, "dynamodb": {"Keys": keys, "NewImage": item}}


def passes(item: dict[str, Any], event: str = "INSERT") -> bool:
    return any(matches(pattern, record(item, event)) for pattern in deployed_filters())


def rating(contact: Contact | None) -> Rating:
    return Rating(
        rating_id="r-1",
        store_id="store-a",
        channel="kiosk",
        source_id="k-1",
        survey_id="default",
        score=1,
        tapped_at=AT,
        received_at=AT,
        contact=contact,
    )


def test_only_a_new_rating_with_a_callback_request_or_an_sms_request_passes():
    asked = rating_item(rating(Contact(phone="+14155550123")))
    request = to_item({"pk": "CALLBACK_REQUESTS", "sk": "SMS#c-1", "store_id": "store-a"})

    assert passes(asked)
    assert passes(request)
    assert not passes(rating_item(rating(None)))  # a tap without a phone: no invocation
    assert not passes(asked, "MODIFY")  # the contact stripped, a burst marked
    assert not passes(asked, "REMOVE")
    assert not passes(to_item({"pk": "STORE#store-a", "sk": "STORE", "callback_requested": True}))


def test_the_keys_that_pass_are_the_ones_flagging_reads():
    assert rating_id_of({"pk": "RATING#r-1", "sk": "RATING"}) == "r-1"
    assert rating_id_of({"pk": "RATING#r-1", "sk": "TAP#x"}) is None
    assert rating_id_of({"pk": "STORE#s"}) is None
    assert callback_requests.conversation_id_of({"pk": "CALLBACK_REQUESTS", "sk": "SMS#c-1"}) == (
        "c-1"
    )
    assert callback_requests.conversation_id_of({"pk": "RATING#r-1", "sk": "RATING"}) is None


def test_a_filter_operator_the_local_poller_cannot_apply_fails_loudly():
    with pytest.raises(ValueError, match="anything-but"):
        matches({"eventName": [{"anything-but": ["REMOVE"]}]}, {"eventName": "INSERT"})
