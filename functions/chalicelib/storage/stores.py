"""Stores, their kiosks, pairing codes and the kiosk revocation list.

Key formats
  store:       pk = STORE#<store_id>, sk = PROFILE       (the survey in it: `survey.version`)
  listing:     pk = STORES,             sk = <store_id>  (every store's id: one partition)
  survey kept: pk = STORE#<store_id>, sk = SURVEY#<version> (a version replaced by a save)
  kiosk:       pk = STORE#<store_id>, sk = KIOSK#<kiosk_id>  (its last heartbeat in it;
               silent_alert_for: the last_seen_at whose silence was alerted)
  pairing:     pk = PAIRING#<code>,   sk = PAIRING       (expires_at: TTL, epoch seconds)
  revocations: pk = REVOKED_KIOSKS,   sk = LIST          (kiosk_ids: a string set)

The revocation list is one item so that a cold Lambda reads it and its store's profile in
a single BatchGetItem (`prefetch_for_kiosk`); it holds ids only, far below the item limit.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from ..config import settings
from ..domain.kiosks import Heartbeat, Kiosk
from ..domain.survey import Store, Survey
from .dynamodb import (
    BATCH_GET_KEYS,
    IdList,
    TtlCache,
    batch_get,
    busy,
    client,
    from_item,
    query_all,
    set_or_remove,
    table_name,
    to_item,
    transact,
    unavailable_on_failure,
    update_if,
    utc_iso,
)

_cache = TtlCache()
_REVOKED = IdList("REVOKED_KIOSKS", "kiosk_ids", "revocations")


def _store_key(store_id: str) -> dict[str, str]:
    return {"pk": f"STORE#{store_id}", "sk": "PROFILE"}


def _kiosk_key(store_id: str, kiosk_id: str) -> dict[str, str]:
    return {"pk": f"STORE#{store_id}", "sk": f"KIOSK#{kiosk_id}"}


def _pairing_key(code: str) -> dict[str, str]:
    return {"pk": f"PAIRING#{code}", "sk": "PAIRING"}


def put_store(store: Store) -> None:
    """Create or replace a store's profile and survey (and list it among the stores)."""
    profile = {**_store_key(store.store_id), "type": "store", **store.model_dump()}
    listed = {"pk": "STORES", "sk": store.store_id, "type": "store_listing"}
    written = transact(
        [
            {"Put": {"TableName": table_name(), "Item": to_item(profile)}},
            {"Put": {"TableName": table_name(), "Item": to_item(listed)}},
        ]
    )
    if not written:  # no conditions: only a concurrent transaction on these items cancels it
        raise busy()
    _cache.clear()


def create_store(store: Store) -> bool:
    """Create a store's profile and listing; False if a store with its id exists (left as
    it is: the put is conditional, so two creations of one id make one store)."""
    profile = {**_store_key(store.store_id), "type": "store", **store.model_dump()}
    listed = {"pk": "STORES", "sk": store.store_id, "type": "store_listing"}
    created = transact(
        [
            {
                "Put": {
                    "TableName": table_name(),
                    "Item": to_item(profile),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
            {"Put": {"TableName": table_name(), "Item": to_item(listed)}},
        ]
    )
    if created:
        _cache.clear()
        return True
    if read_store(store.store_id) is not None:
        return False
    # Cancelled, yet no store: only a concurrent transaction on these items does that.
    raise busy()


def read_store(store_id: str) -> Store | None:
    """A store as stored now (strongly consistent; the container's cached copy is replaced):
    for staff who edit it, never for the ingest path."""
    with unavailable_on_failure():
        response = client().get_item(
            TableName=table_name(), Key=to_item(_store_key(store_id)), ConsistentRead=True
        )
    store = Store.model_validate(from_item(response["Item"])) if "Item" in response else None
    _cache.put(f"store:{store_id}", store)
    return store


def reread_store(store_id: str, gap_s: float) -> Store | None:
    """`read_store`, unless this function did so for `reread_store` within `gap_s`: None
    then (and None if the store does not exist)."""
    if _cache.fresh(f"reread:{store_id}", gap_s):
        return None
    _cache.put(f"reread:{store_id}", True)
    return read_store(store_id)


def all_stores() -> list[Store]:
    """Every store, in id order."""
    return stores_by_id(list_store_ids())


def stores_by_id(store_ids: list[str]) -> list[Store]:
    """The stores of these ids that exist, in id order (BatchGetItem, 100 keys a call)."""
    found: list[Store] = []
    for index in range(0, len(store_ids), BATCH_GET_KEYS):
        keys = [to_item(_store_key(s)) for s in store_ids[index : index + BATCH_GET_KEYS]]
        found += [Store.model_validate(item) for item in batch_get(keys)]
    return sorted(found, key=lambda store: store.store_id)


# The profile's fields a store edit may change (the survey has its own, versioned write).
PROFILE_FIELDS = ("name", "timezone", "country", "region", "opening_hours", "sms_window")


def update_profile(store: Store, fields: set[str]) -> bool:
    """Write these PROFILE_FIELDS of `store` (None removes one); False if the store does not
    exist. Only the fields named are written, so an edit of others made meanwhile, or a
    survey saved meanwhile, is kept."""
    expression, names, values = set_or_remove(store.model_dump(include=fields))
    request: dict[str, Any] = {
        "TableName": table_name(),
        "Key": to_item(_store_key(store.store_id)),
        "UpdateExpression": expression,
        "ConditionExpression": "attribute_exists(pk)",
        "ExpressionAttributeNames": names,
    }
    if values:
        request["ExpressionAttributeValues"] = to_item(values)
    if not update_if(request):
        return False
    _cache.clear()
    return True


def save_survey(store_id: str, survey: Survey, replaced: Survey, at: datetime) -> bool:
    """Make `survey` the store's current one and keep `replaced` as its history item, in
    one transaction; False if the current version is no longer `replaced.version`.

    The condition on the version is what makes two saves at once one save and one refusal
    (both read version n and write n + 1: only the first finds n still there)."""
    profile_key = to_item(_store_key(store_id))
    if replaced.version == 1:  # stored before surveys had versions: no version attribute
        condition = "attribute_exists(pk) AND (#survey.#version = :current OR "
        condition += "attribute_not_exists(#survey.#version))"
    else:
        condition = "#survey.#version = :current"
    kept = {
        "pk": f"STORE#{store_id}",
        "sk": f"SURVEY#{replaced.version}",
        "type": "survey_version",
        "survey": replaced.model_dump(),
        "replaced_at": _iso(at),
    }
    saved = transact(
        [
            {
                "Update": {
                    "TableName": table_name(),
                    "Key": profile_key,
                    "UpdateExpression": "SET #survey = :survey",
                    "ConditionExpression": condition,
                    "ExpressionAttributeNames": {"#survey": "survey", "#version": "version"},
                    "ExpressionAttributeValues": to_item(
                        {":survey": survey.model_dump(), ":current": replaced.version}
                    ),
                }
            },
            {
                # A version is kept once: it is what the ratings of that version answered.
                "Put": {
                    "TableName": table_name(),
                    "Item": to_item(kept),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
        ]
    )
    if saved:
        _cache.clear()
    return saved


def kept_surveys(store_id: str) -> list[Survey]:
    """The store's replaced survey versions, oldest first (not the current one)."""
    items = query_all(
        KeyConditionExpression="pk = :pk AND begins_with(sk, :survey)",
        ExpressionAttributeValues=to_item({":pk": f"STORE#{store_id}", ":survey": "SURVEY#"}),
    )
    return sorted((Survey.model_validate(i["survey"]) for i in items), key=lambda s: s.version)


def list_store_ids() -> list[str]:
    """Every store's id (one small partition; no scan)."""
    items = query_all(
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues=to_item({":pk": "STORES"}),
        ProjectionExpression="sk",
    )
    return [str(item["sk"]) for item in items]


def get_store(store_id: str) -> Store | None:
    """A store, cached per container for `store_cache_s` (the ingest path reads no table)."""

    def load() -> Store | None:
        with unavailable_on_failure():
            response = client().get_item(TableName=table_name(), Key=to_item(_store_key(store_id)))
        return Store.model_validate(from_item(response["Item"])) if "Item" in response else None

    return _cache.get(f"store:{store_id}", settings().store_cache_s, load)


def create_kiosk(kiosk: Kiosk, code: str, expires_at: datetime) -> bool:
    """Record a pending kiosk and its pairing code; False if the code is already in use."""
    kiosk_item = {**_kiosk_key(kiosk.store_id, kiosk.kiosk_id), "type": "kiosk"}
    pairing_item = {
        **_pairing_key(code),
        "type": "pairing",
        "store_id": kiosk.store_id,
        "kiosk_id": kiosk.kiosk_id,
        "expires_at": int(expires_at.timestamp()),
    }
    return transact(
        [
            {
                "Put": {
                    "TableName": table_name(),
                    "Item": to_item(kiosk_item | _kiosk_values(kiosk)),
                }
            },
            {
                # A live code must stay unique; an expired one not yet swept by TTL may be
                # reused.
                "Put": {
                    "TableName": table_name(),
                    "Item": to_item(pairing_item),
                    "ConditionExpression": "attribute_not_exists(pk) OR expires_at < :now",
                    "ExpressionAttributeValues": to_item(
                        {":now": int(kiosk.created_at.timestamp())}
                    ),
                }
            },
        ]
    )


def redeem_pairing_code(code: str, now: datetime) -> Kiosk | None:
    """Use a pairing code once: the kiosk it named becomes paired. None if unknown or expired."""
    with unavailable_on_failure():
        response = client().get_item(
            TableName=table_name(), Key=to_item(_pairing_key(code)), ConsistentRead=True
        )
    if "Item" not in response:
        return None
    pairing = from_item(response["Item"])
    epoch_now = int(now.timestamp())
    # TTL deletes lazily: an expired code can still be read, so the expiry is checked here too.
    if int(pairing["expires_at"]) <= epoch_now:
        return None
    store_id, kiosk_id = str(pairing["store_id"]), str(pairing["kiosk_id"])
    redeemed = transact(
        [
            {
                # The conditional delete is what makes the code single use under races.
                "Delete": {
                    "TableName": table_name(),
                    "Key": to_item(_pairing_key(code)),
                    "ConditionExpression": "expires_at > :now",
                    "ExpressionAttributeValues": to_item({":now": epoch_now}),
                }
            },
            {
                "Update": {
                    "TableName": table_name(),
                    "Key": to_item(_kiosk_key(store_id, kiosk_id)),
                    "UpdateExpression": "SET #status = :paired, paired_at = :now",
                    "ConditionExpression": "#status = :pending",
                    "ExpressionAttributeNames": {"#status": "status"},
                    "ExpressionAttributeValues": to_item(
                        {":paired": "paired", ":pending": "pending", ":now": _iso(now)}
                    ),
                }
            },
        ]
    )
    return get_kiosk(store_id, kiosk_id) if redeemed else None


def get_kiosk(store_id: str, kiosk_id: str) -> Kiosk | None:
    with unavailable_on_failure():
        response = client().get_item(
            TableName=table_name(),
            Key=to_item(_kiosk_key(store_id, kiosk_id)),
            ConsistentRead=True,
        )
    return Kiosk.model_validate(from_item(response["Item"])) if "Item" in response else None


def list_kiosks(store_id: str) -> list[Kiosk]:
    """Every kiosk of a store, oldest first."""
    items = query_all(
        KeyConditionExpression="pk = :pk AND begins_with(sk, :kiosk)",
        ExpressionAttributeValues=to_item({":pk": f"STORE#{store_id}", ":kiosk": "KIOSK#"}),
    )
    return sorted((Kiosk.model_validate(item) for item in items), key=lambda k: k.created_at)


def revoke_kiosk(store_id: str, kiosk_id: str, now: datetime) -> Kiosk | None:
    """Revoke a kiosk's token: it lands on the revocation list that ingest caches."""
    revoked = transact(
        [
            {
                "Update": {
                    "TableName": table_name(),
                    "Key": to_item(_kiosk_key(store_id, kiosk_id)),
                    "UpdateExpression": "SET #status = :revoked, revoked_at = :now",
                    "ConditionExpression": "attribute_exists(pk)",
                    "ExpressionAttributeNames": {"#status": "status"},
                    "ExpressionAttributeValues": to_item(
                        {":revoked": "revoked", ":now": _iso(now)}
                    ),
                }
            },
            _REVOKED.add(kiosk_id),
        ]
    )
    if not revoked:
        return None
    _cache.clear()
    return get_kiosk(store_id, kiosk_id)


def revoked_kiosk_ids() -> frozenset[str]:
    """Revoked kiosk ids, cached per container for `revocation_cache_s`."""
    return _REVOKED.cached(_cache, settings().revocation_cache_s)


def prefetch_for_kiosk(store_id: str) -> None:
    """Load what kiosk requests check (the store, the revocation list) in one round trip
    when either is not cached: a cold Lambda pays one read instead of two."""
    config = settings()
    store_key = f"store:{store_id}"
    if _cache.fresh(store_key, config.store_cache_s) and _cache.fresh(
        _REVOKED.pk, config.revocation_cache_s
    ):
        return
    with unavailable_on_failure():
        response = client().batch_get_item(
            RequestItems={
                table_name(): {"Keys": [to_item(_store_key(store_id)), to_item(_REVOKED.key)]}
            }
        )
    if response.get("UnprocessedKeys"):
        return  # throttled: the cached getters read what is missing themselves
    items = [from_item(item) for item in response["Responses"].get(table_name(), [])]
    store = next((item for item in items if item["sk"] == "PROFILE"), None)
    revoked = next((item for item in items if item["sk"] == "LIST"), None)
    _cache.put(store_key, Store.model_validate(store) if store else None)
    _cache.put(_REVOKED.pk, _REVOKED.ids(revoked))


def clear_caches() -> None:
    _cache.clear()


def record_heartbeat(store_id: str, kiosk_id: str, heartbeat: Heartbeat, at: datetime) -> bool:
    """Note a kiosk's heartbeat in one write (no read); False if the kiosk is not paired
    (unknown, or revoked while its token is still in a container's revocation cache)."""
    expression, names, values = set_or_remove(
        {
            "last_seen_at": _iso(at),
            "queue_length": heartbeat.queue_length,
            "app_version": heartbeat.app_version,
            "last_sync_at": heartbeat.last_sync_at and _iso(heartbeat.last_sync_at),
            "battery": None if heartbeat.battery is None else _battery(heartbeat.battery),
        }
    )
    return _update_kiosk(
        store_id,
        kiosk_id,
        expression,
        "#status = :paired",
        values | {":paired": "paired"},
        names | _STATUS,
    )


def claim_silent_alert(kiosk: Kiosk) -> bool:
    """Mark the kiosk's current silence as alerted; False if it already was, or if a
    heartbeat came meanwhile (then it is not silent). The mark is the silence's
    last_seen_at: a kiosk alerts once per silence however many runs see it, retried or
    overlapping, and again only after it was seen and fell silent anew."""
    assert kiosk.last_seen_at is not None
    return _update_kiosk(
        kiosk.store_id,
        kiosk.kiosk_id,
        "SET silent_alert_for = :seen",
        "last_seen_at = :seen AND #status = :paired"
        " AND (attribute_not_exists(silent_alert_for) OR silent_alert_for <> :seen)",
        {":seen": _iso(kiosk.last_seen_at), ":paired": "paired"},
        _STATUS,
    )


def release_silent_alert(kiosk: Kiosk) -> None:
    """Take back a claim whose alert could not be sent: the next run tries again."""
    assert kiosk.last_seen_at is not None
    _update_kiosk(
        kiosk.store_id,
        kiosk.kiosk_id,
        "REMOVE silent_alert_for",
        "silent_alert_for = :seen",
        {":seen": _iso(kiosk.last_seen_at)},
    )


_STATUS = {"#status": "status"}  # a reserved word in expressions


def _update_kiosk(
    store_id: str,
    kiosk_id: str,
    expression: str,
    condition: str,
    values: dict[str, Any],
    names: dict[str, str] | None = None,
) -> bool:
    request: dict[str, Any] = {
        "TableName": table_name(),
        "Key": to_item(_kiosk_key(store_id, kiosk_id)),
        "UpdateExpression": expression,
        "ConditionExpression": condition,
        "ExpressionAttributeValues": to_item(values),
    }
    if names:
        request["ExpressionAttributeNames"] = names
    return update_if(request)


def put_kiosk(kiosk: Kiosk) -> None:
    """Create or replace a kiosk record (seeding and tests; staff use create_kiosk)."""
    item = {**_kiosk_key(kiosk.store_id, kiosk.kiosk_id), "type": "kiosk"} | _kiosk_values(kiosk)
    with unavailable_on_failure():
        client().put_item(TableName=table_name(), Item=to_item(item))


def _iso(moment: datetime) -> str:
    return utc_iso(moment, "seconds")


def _kiosk_values(kiosk: Kiosk) -> dict[str, Any]:
    values = kiosk.model_dump(mode="json", exclude_none=True)
    if kiosk.battery is not None:
        values["battery"] = _battery(kiosk.battery)
    return values


def _battery(level: float) -> Decimal:
    # DynamoDB numbers are decimals (boto3 refuses floats); two digits are a percent.
    return Decimal(f"{level:.2f}")
