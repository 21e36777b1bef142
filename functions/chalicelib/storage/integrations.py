"""Store-system integrations (their credentials) and the list of revoked ones.

Key formats
  integration: pk = INTEGRATIONS,         sk = INTEGRATION#<integration_id>
  revoked:     pk = REVOKED_INTEGRATIONS, sk = LIST    (integration_ids: a string set)

The revoked list is one item, like the kiosk revocation list: every integration request
checks it, cached per container for `revocation_cache_s`. Tokens are never stored: the
record says whom a token was issued to; its signature and the revoked list decide.
"""

from __future__ import annotations

from datetime import datetime

from ..config import settings
from ..domain.people import Integration
from .dynamodb import (
    IdList,
    TtlCache,
    client,
    from_item,
    query_all,
    table_name,
    to_item,
    transact,
    unavailable_on_failure,
    utc_iso,
)

_cache = TtlCache()
_REVOKED = IdList("REVOKED_INTEGRATIONS", "integration_ids", "revoked_integrations")
_INTEGRATIONS = "INTEGRATIONS"


def _key(integration_id: str) -> dict[str, str]:
    return {"pk": _INTEGRATIONS, "sk": f"INTEGRATION#{integration_id}"}


def revoked_integration_ids() -> frozenset[str]:
    """Ids of revoked integrations, cached per container for `revocation_cache_s`."""
    return _REVOKED.cached(_cache, settings().revocation_cache_s)


def put_integration(integration: Integration) -> None:
    item = {**_key(integration.integration_id), "type": "integration"}
    item |= integration.model_dump(mode="json", exclude_none=True)
    with unavailable_on_failure():
        client().put_item(TableName=table_name(), Item=to_item(item))


def get_integration(integration_id: str) -> Integration | None:
    with unavailable_on_failure():
        response = client().get_item(
            TableName=table_name(), Key=to_item(_key(integration_id)), ConsistentRead=True
        )
    return Integration.model_validate(from_item(response["Item"])) if "Item" in response else None


def list_integrations() -> list[Integration]:
    """Every integration, oldest first (revoked ones too: they say when)."""
    items = query_all(
        KeyConditionExpression="pk = :pk AND begins_with(sk, :integration)",
        ExpressionAttributeValues=to_item({":pk": _INTEGRATIONS, ":integration": "INTEGRATION#"}),
    )
    found = (Integration.model_validate(item) for item in items)
    return sorted(found, key=lambda i: (i.created_at, i.integration_id))


def revoke_integration(integration_id: str, now: datetime) -> bool:
    """Mark the integration revoked and put it on the revoked list, in one write; False if
    there is no such integration. Revoking again keeps the first time."""
    revoked = transact(
        [
            {
                "Update": {
                    "TableName": table_name(),
                    "Key": to_item(_key(integration_id)),
                    "UpdateExpression": "SET revoked_at = if_not_exists(revoked_at, :now)",
                    "ConditionExpression": "attribute_exists(pk)",
                    "ExpressionAttributeValues": to_item({":now": utc_iso(now, "seconds")}),
                }
            },
            _REVOKED.add(integration_id),
        ]
    )
    if revoked:
        _cache.clear()
    return revoked


def clear_caches() -> None:
    _cache.clear()
