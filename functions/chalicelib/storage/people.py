"""People (staff, managers, admins) and the list of removed people.

Key formats
  person:  pk = PEOPLE,         sk = PERSON#<email>   (email lower case)
  removed: pk = REMOVED_PEOPLE, sk = LIST             (emails: a string set)

The removed list is one item, like the kiosk revocation list: every staff request checks it
(a removed person's ID token stays valid until it expires), so it is read once per container
and cached for `revocation_cache_s`. Re-inviting a person takes them off it.
"""

from __future__ import annotations

from typing import Any

from ..config import settings
from .dynamodb import TtlCache, client, from_item, table_name, to_item, unavailable_on_failure

_cache = TtlCache()
_REMOVED_KEY = {"pk": "REMOVED_PEOPLE", "sk": "LIST"}


def removed_emails() -> frozenset[str]:
    """Lower-cased e-mails of removed people, cached per container for `revocation_cache_s`."""

    def load() -> frozenset[str]:
        with unavailable_on_failure():
            response = client().get_item(TableName=table_name(), Key=to_item(_REMOVED_KEY))
        return _emails_from(response.get("Item"))

    return _cache.get("removed", settings().revocation_cache_s, load)


def _emails_from(item: dict[str, Any] | None) -> frozenset[str]:
    if item is None:
        return frozenset()
    return frozenset(str(email) for email in from_item(item).get("emails", ()))


def clear_caches() -> None:
    _cache.clear()
