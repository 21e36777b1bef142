"""People (staff, managers, admins) and the list of removed people.

Key formats
  person:  pk = PEOPLE,         sk = PERSON#<email>   (email lower case)
  removed: pk = REMOVED_PEOPLE, sk = LIST             (emails: a string set)

People are one partition: the staff page lists them all (an admin) or a region's (a
manager), a few thousand at most, and are written rarely.

The removed list is one item, like the kiosk revocation list: every staff request checks it
(a removed person's ID token stays valid until it expires), so it is read once per container
and cached for `revocation_cache_s`. Inviting a person again takes them off it. It holds
addresses only: some 4,000 of them fit in the item's 400 KB.
"""

from __future__ import annotations

from typing import Any

from ..config import settings
from ..domain.people import NotificationPreferences, Person
from .dynamodb import (
    IdList,
    TtlCache,
    busy,
    client,
    from_item,
    query_all,
    table_name,
    to_item,
    transact,
    unavailable_on_failure,
)

_cache = TtlCache()
_REMOVED = IdList("REMOVED_PEOPLE", "emails", "removed_people")
_PEOPLE = "PEOPLE"


def _person_key(email: str) -> dict[str, str]:
    return {"pk": _PEOPLE, "sk": f"PERSON#{email}"}


def removed_emails() -> frozenset[str]:
    """Lower-cased e-mails of removed people, cached per container for `revocation_cache_s`."""
    return _REMOVED.cached(_cache, settings().revocation_cache_s)


def get_person(email: str) -> Person | None:
    with unavailable_on_failure():
        response = client().get_item(
            TableName=table_name(), Key=to_item(_person_key(email)), ConsistentRead=True
        )
    return _person(from_item(response["Item"])) if "Item" in response else None


def list_people() -> list[Person]:
    """Everyone, by e-mail."""
    items = query_all(
        KeyConditionExpression="pk = :pk AND begins_with(sk, :person)",
        ExpressionAttributeValues=to_item({":pk": _PEOPLE, ":person": "PERSON#"}),
    )
    return sorted((_person(item) for item in items), key=lambda p: p.email)


def put_person(person: Person) -> None:
    """Create or replace a person; they are taken off the removed list in the same write
    (a person removed and invited again signs in again)."""
    item = {**_person_key(person.email), "type": "person", **_values(person)}
    written = transact(
        [
            {"Put": {"TableName": table_name(), "Item": to_item(item)}},
            _REMOVED.remove(person.email),
        ]
    )
    if not written:
        raise busy()  # no conditions: only a concurrent transaction cancels it
    _cache.clear()


def set_notifications(
    email: str, preferences: NotificationPreferences, subscriptions: list[str]
) -> None:
    """A person's preferences and the SNS subscriptions made for them."""
    with unavailable_on_failure():
        client().update_item(
            TableName=table_name(),
            Key=to_item(_person_key(email)),
            UpdateExpression="SET notifications = :n, subscriptions = :s",
            ExpressionAttributeValues=to_item(
                {":n": preferences.model_dump(), ":s": list(subscriptions)}
            ),
        )


def remove_person(email: str) -> None:
    """Delete the person's record and put them on the removed list, in one write."""
    written = transact(
        [
            {"Delete": {"TableName": table_name(), "Key": to_item(_person_key(email))}},
            _REMOVED.add(email),
        ]
    )
    if not written:
        raise busy()  # no conditions: only a concurrent transaction cancels it
    _cache.clear()


def _values(person: Person) -> dict[str, Any]:
    return person.model_dump(mode="json")


def _person(item: dict[str, Any]) -> Person:
    return Person.model_validate(item)


def clear_caches() -> None:
    _cache.clear()
