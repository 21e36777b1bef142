"""Store-system integrations: a credential (an integration token, shown once) for a set of
stores, listed without it, and revoked. An admin may make one for any stores; a manager for
the stores of their region only."""

from __future__ import annotations

from datetime import datetime
from uuid import uuid4

from ..auth import StaffPrincipal, issue_integration_token
from ..domain.people import Integration, IntegrationRequest
from ..errors import Forbidden, NotFound
from ..observability import logger
from ..storage import integrations, stores


def create(principal: StaffPrincipal, request: IntegrationRequest, now: datetime) -> dict[str, str]:
    """A new integration and its token (`sub` = its id). The token is not kept: the record
    holds whom it was issued to; a lost token is revoked and a new one made."""
    for store_id in request.store_ids:
        _require_manage(principal, store_id)
    integration = Integration(
        integration_id=f"int-{uuid4().hex}",
        name=request.name,
        store_ids=request.store_ids,
        created_at=now,
        created_by=principal.subject,
    )
    integrations.put_integration(integration)
    token = issue_integration_token(integration.integration_id, request.store_ids, now)
    logger.info("integration created", extra={"integration_id": integration.integration_id})
    return {"integration_id": integration.integration_id, "token": token}


def visible(principal: StaffPrincipal) -> list[Integration]:
    """Every integration for an admin; for a manager, those of their region's stores only."""
    if principal.role not in ("admin", "manager"):
        raise Forbidden("only managers and admins see integrations")
    return [i for i in integrations.list_integrations() if _manages_all(principal, i)]


def revoke(principal: StaffPrincipal, integration_id: str, now: datetime) -> None:
    """Its token stops working within `revocation_cache_s`; revoking again is harmless."""
    integration = integrations.get_integration(integration_id)
    if integration is None:
        raise NotFound(f"integration {integration_id} does not exist")
    if not _manages_all(principal, integration):
        raise Forbidden("a manager revokes integrations of their region's stores only")
    if not integrations.revoke_integration(integration_id, now):
        raise NotFound(f"integration {integration_id} does not exist")
    logger.info("integration revoked", extra={"integration_id": integration_id})


def _require_manage(principal: StaffPrincipal, store_id: str) -> None:
    """Only an admin learns that a store id does not exist; others get Forbidden."""
    store = stores.get_store(store_id)
    if store is None and principal.role == "admin":
        raise NotFound(f"store {store_id} does not exist")
    if store is None:
        raise Forbidden(f"this credential is not allowed for store {store_id}")
    principal.require_manage(store)


def _manages_all(principal: StaffPrincipal, integration: Integration) -> bool:
    if principal.role == "admin":
        return True
    found = [stores.get_store(store_id) for store_id in integration.store_ids]
    return all(store is not None and principal.can_manage(store) for store in found)
