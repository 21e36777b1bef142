"""Store-system integrations (their credentials) and the list of revoked ones.

Key formats
  integration: pk = INTEGRATIONS,         sk = INTEGRATION#<integration_id>
  revoked:     pk = REVOKED_INTEGRATIONS, sk = LIST    (integration_ids: a string set)

The revoked list is one item, like the kiosk revocation list: every integration request
checks it, cached per container for `revocation_cache_s`. Tokens are never stored.
"""

from __future__ import annotations

from typing import Any

from ..config import settings
from .dynamodb import TtlCache, client, from_item, table_name, to_item, unavailable_on_failure

_cache = TtlCache()
_REVOKED_KEY = {"pk": "REVOKED_INTEGRATIONS", "sk": "LIST"}


def revoked_integration_ids() -> frozenset[str]:
    """Ids of revoked integrations, cached per container for `revocation_cache_s`."""

    def load() -> frozenset[str]:
        with unavailable_on_failure():
            response = client().get_item(TableName=table_name(), Key=to_item(_REVOKED_KEY))
        return _ids_from(response.get("Item"))

    return _cache.get("revoked", settings().revocation_cache_s, load)


def _ids_from(item: dict[str, Any] | None) -> frozenset[str]:
    if item is None:
        return frozenset()
    return frozenset(str(i) for i in from_item(item).get("integration_ids", ()))


def clear_caches() -> None:
    _cache.clear()
