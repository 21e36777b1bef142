"""Use cases: what a request or an event does, across domain rules, storage and notifications.
A handler parses the request, calls one flow and answers; the flows know no HTTP."""

from __future__ import annotations

from ..domain.survey import Store
from ..errors import NotFound

# Not bound as `stores`: that name is this package's module flows/stores.py.
from ..storage import stores as stored


def existing_store(store_id: str) -> Store:
    """The store `store_id` names; NotFound if there is none."""
    store = stored.get_store(store_id)
    if store is None:
        raise NotFound(f"store {store_id} does not exist")
    return store
