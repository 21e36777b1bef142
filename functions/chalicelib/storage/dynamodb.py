"""The DynamoDB client, item (de)serialisation and the mapping of its failures.

The single table holds every item type; key formats live in the modules beside this one
and are written down in docs/data-model.md.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import BotoCoreError, ClientError

from ..aws_clients import bounded_client
from ..config import settings
from ..errors import DependencyUnavailable

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()

# Failures that mean "try again later", not "your request was wrong". Besides these, any
# answer with a 5xx status is one (an outage DynamoDB or the AWS front end names otherwise).
_RETRYABLE = {
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "Throttling",
    "RequestLimitExceeded",
    "InternalServerError",
    "InternalFailure",  # the AWS front end's generic 500, not DynamoDB's own
    "ServiceUnavailable",
    "TransactionConflictException",
    "LimitExceededException",
}
# A transaction cancelled for these reasons was not refused by a condition: it was throttled
# or collided with another one, and may succeed when tried again.
_RETRYABLE_CANCELLATIONS = {
    "ThrottlingError",
    "ProvisionedThroughputExceeded",
    "TransactionConflict",
    "RequestLimitExceeded",
}
_KNOWN_CANCELLATIONS = _RETRYABLE_CANCELLATIONS | {"None", "ConditionalCheckFailed"}
# The ingest writes a batch's ratings at most this many at a time (botocore's default pool
# is 10 too; it is named here for that reason).
MAX_CONNECTIONS = 10
# Batched requests a scheduled run keeps in flight (BatchGetItem, TransactWriteItems of up
# to 100 items each): a run waits on round trips, not on its processor.
BATCHES_IN_FLIGHT = 4
# Connections the client keeps: enough for either, so no thread waits for one or opens a
# connection that the pool then throws away.
POOL_CONNECTIONS = max(MAX_CONNECTIONS, BATCHES_IN_FLIGHT)


@lru_cache(maxsize=1)
def client() -> DynamoDBClient:
    """One client per Lambda container, created on first use; safe to use from several
    threads. Each call takes at most `settings().dynamodb_worst_call_s`."""
    config = settings()
    dynamodb: DynamoDBClient = bounded_client(
        "dynamodb",
        config.dynamodb_endpoint,
        connect_timeout_s=config.dynamodb_connect_timeout_s,
        read_timeout_s=config.dynamodb_read_timeout_s,
        attempts=config.dynamodb_attempts,
        max_pool_connections=POOL_CONNECTIONS,
        # Requests are built by this layer from validated models; botocore's per-attribute
        # re-validation costs ~0.1 ms per PutItem on the ingest path.
        parameter_validation=False,
    )
    return dynamodb


def worst_call_s() -> float:
    """The longest one DynamoDB call may take with this client's settings (seconds)."""
    return settings().dynamodb_worst_call_s


def table_name() -> str:
    return settings().table_name


def to_item(values: dict[str, Any]) -> dict[str, Any]:
    return {k: _wire(v) for k, v in values.items() if v is not None}


def _wire(value: Any) -> dict[str, Any]:
    """boto3's serialisation of a value, the common types without its checks (a run writes
    thousands of nested tallies); anything else goes to boto3's serialiser."""
    kind = type(value)
    if kind is str:
        return {"S": value}
    if kind is bool:
        return {"BOOL": value}
    if kind is int:
        return {"N": str(value)}
    if kind is dict:
        return {"M": {k: _wire(v) for k, v in value.items()}}
    if kind is list:
        return {"L": [_wire(v) for v in value]}
    return _serializer.serialize(value)  # type: ignore[return-value]


def from_item(item: dict[str, Any]) -> dict[str, Any]:
    return {k: _deserializer.deserialize(v) for k, v in item.items()}


def utc_iso(moment: datetime, timespec: Literal["seconds", "milliseconds", "microseconds"]) -> str:
    """A moment as stored: ISO-8601 in UTC (`+00:00`) to `timespec`. One item type keeps one
    precision, so its strings order as the moments do (keys and conditions compare them)."""
    return moment.astimezone(UTC).isoformat(timespec=timespec)


def utc_hour(moment: datetime) -> str:
    """The UTC hour of a moment as keys spell it: YYYY-MM-DDTHH."""
    return f"{moment.astimezone(UTC):%Y-%m-%dT%H}"


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _cancellation_codes(error: ClientError) -> list[str]:
    """A cancelled transaction's reason per action, in the order of its actions ("None" for
    one that would have been written)."""
    reasons = error.response.get("CancellationReasons") or []
    return [str(reason.get("Code", "None")) for reason in reasons]


def is_retryable(error: ClientError) -> bool:
    """Whether DynamoDB's answer means "try again later": throttling, an internal error or
    an outage (any 5xx), a transaction cancelled only by throttling or a conflict."""
    response: dict[str, Any] = dict(error.response)
    status = (response.get("ResponseMetadata") or {}).get("HTTPStatusCode") or 0
    if error_code(error) in _RETRYABLE or int(status) >= 500:
        return True
    if error_code(error) == "TransactionCanceledException":
        reasons = set(_cancellation_codes(error))
        return bool(reasons & _RETRYABLE_CANCELLATIONS) and "ConditionalCheckFailed" not in reasons
    return False


@contextmanager
def unavailable_on_failure() -> Iterator[None]:
    """Turn throttling, outages, timeouts and dropped connections into DependencyUnavailable
    (the caller retries); docs/api.md lists what the API answers then."""
    try:
        yield
    except ClientError as error:
        if is_retryable(error):
            raise DependencyUnavailable(
                "storage is busy or unavailable; retry later", retry_after=settings().retry_after_s
            ) from error
        raise
    except BotoCoreError as error:
        # Connection refused, connect and read timeouts, a connection closed without an
        # answer (ConnectionClosedError, ReadTimeoutError, EndpointConnectionError ...).
        raise DependencyUnavailable(
            "storage is unreachable; retry later", retry_after=settings().retry_after_s
        ) from error


T = TypeVar("T")


class TtlCache:
    """Keeps a value per key for `max_age` seconds in this Lambda container."""

    def __init__(self) -> None:
        self._entries: dict[str, tuple[float, Any]] = {}

    def get(self, key: str, max_age: float, load: Callable[[], T]) -> T:
        now = time.monotonic()
        hit = self._entries.get(key)
        if hit is not None and now - hit[0] < max_age:
            return hit[1]  # type: ignore[no-any-return]
        value = load()
        self._entries[key] = (now, value)
        return value

    def fresh(self, key: str, max_age: float) -> bool:
        hit = self._entries.get(key)
        return hit is not None and time.monotonic() - hit[0] < max_age

    def put(self, key: str, value: Any) -> None:
        self._entries[key] = (time.monotonic(), value)

    def clear(self) -> None:
        self._entries.clear()


def busy() -> DependencyUnavailable:
    """The error for a write cancelled by a concurrent one, or reads left unprocessed: the
    caller is told to retry after a moment."""
    return DependencyUnavailable("storage is busy; retry later", settings().retry_after_s)


@dataclass(frozen=True)
class IdList:
    """A set of ids in one item (who is revoked or removed): changed in the same transaction
    as the record it speaks of, read by requests from a per-container cache. One item, so a
    cold container reads it in one GetItem (or inside a BatchGetItem); ids only, far below
    DynamoDB's item limit."""

    pk: str
    attribute: str
    type: str

    @property
    def key(self) -> dict[str, str]:
        return {"pk": self.pk, "sk": "LIST"}

    def add(self, value: str) -> dict[str, Any]:
        """The transaction's Update that puts `value` on the list."""
        return self._update("ADD", value)

    def remove(self, value: str) -> dict[str, Any]:
        """The transaction's Update that takes `value` off the list."""
        return self._update("DELETE", value)

    def ids(self, item: dict[str, Any] | None) -> frozenset[str]:
        """The ids of the list's item (as `from_item` reads it); none if there is none."""
        return frozenset(str(value) for value in (item or {}).get(self.attribute, ()))

    def cached(self, cache: TtlCache, max_age: float) -> frozenset[str]:
        """The list, read at most once per `max_age` seconds in this container."""

        def load() -> frozenset[str]:
            with unavailable_on_failure():
                response = client().get_item(TableName=table_name(), Key=to_item(self.key))
            return self.ids(from_item(response["Item"]) if "Item" in response else None)

        return cache.get(self.pk, max_age, load)

    def _update(self, action: str, value: str) -> dict[str, Any]:
        expression = f"{action} #ids :value" + (" SET #type = :type" if action == "ADD" else "")
        values: dict[str, Any] = {":value": {value}}
        names = {"#ids": self.attribute}
        if action == "ADD":
            values[":type"], names["#type"] = self.type, "type"
        return {
            "Update": {
                "TableName": table_name(),
                "Key": to_item(self.key),
                "UpdateExpression": expression,
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": to_item(values),
            }
        }


def query_all(**kwargs: Any) -> list[dict[str, Any]]:
    """Every item a Query matches, following its pages."""
    return [from_item(item) for item in query_wire(**kwargs)]


def query_wire(**kwargs: Any) -> list[dict[str, Any]]:
    """Every item a Query matches, in DynamoDB's wire format, following its pages."""
    return query_scanned(**kwargs)[0]


def query_scanned(**kwargs: Any) -> tuple[list[dict[str, Any]], int]:
    """query_wire's items, and how many items the key condition matched before a
    FilterExpression dropped any (ScannedCount, summed over the pages)."""
    items: list[dict[str, Any]] = []
    scanned = 0
    request: dict[str, Any] = {"TableName": table_name(), **kwargs}
    with unavailable_on_failure():
        while True:
            response = client().query(**request)
            items.extend(response.get("Items", []))
            scanned += int(response.get("ScannedCount", len(response.get("Items", []))))
            if "LastEvaluatedKey" not in response:
                return items, scanned
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]


def raw_item(
    key: dict[str, str], *, ddb: DynamoDBClient | None = None, table: str | None = None
) -> dict[str, Any] | None:
    """An item exactly as stored, TTL-expired or not, or None: what tests and devtools look
    at through the modules' `stored_*` functions (`ddb` and `table`: another stack's)."""
    response = (ddb or client()).get_item(
        TableName=table or table_name(), Key=to_item(key), ConsistentRead=True
    )
    return from_item(response["Item"]) if "Item" in response else None


def put_if(item: dict[str, Any], condition: str, values: dict[str, Any] | None = None) -> bool:
    """A conditional PutItem of an already serialised item; False when the condition fails."""
    request: dict[str, Any] = {"TableName": table_name(), "Item": item}
    request["ConditionExpression"] = condition
    if values:
        request["ExpressionAttributeValues"] = to_item(values)
    return _unless_condition_fails(lambda: client().put_item(**request))


def update_if(request: dict[str, Any]) -> bool:
    """A conditional UpdateItem (the whole request, serialised); False when its condition fails."""
    return _unless_condition_fails(lambda: client().update_item(**request))


def set_or_remove(values: dict[str, Any]) -> tuple[str, dict[str, str], dict[str, Any]]:
    """An UpdateExpression that sets each attribute of `values` and removes each None one,
    with its names (`#<name>`: reserved words are safe) and its values (not serialised)."""
    set_parts = [f"#{n} = :{n}" for n in sorted(values) if values[n] is not None]
    remove_parts = [f"#{n}" for n in sorted(values) if values[n] is None]
    expression = " ".join(
        part
        for part in (
            f"SET {', '.join(set_parts)}" if set_parts else "",
            f"REMOVE {', '.join(remove_parts)}" if remove_parts else "",
        )
        if part
    )
    names = {f"#{name}": name for name in values}
    return expression, names, {f":{n}": v for n, v in values.items() if v is not None}


def _unless_condition_fails(call: Callable[[], Any]) -> bool:
    try:
        with unavailable_on_failure():
            call()
    except ClientError as error:
        if error_code(error) == "ConditionalCheckFailedException":
            return False
        raise
    return True


BATCH_ATTEMPTS = 6  # then the caller fails with a storage error (its run is redone later)
BATCH_BACKOFF_S = 0.05  # the first wait; doubled after each attempt, at most BATCH_BACKOFF_MAX_S
BATCH_BACKOFF_MAX_S = 2.0
BATCH_GET_KEYS = 100  # BatchGetItem's limit
TRANSACTION_ITEMS = 100  # TransactWriteItems' limit


def _back_off(attempt: int) -> None:
    """Exponential backoff with full jitter before attempt `attempt` (1 = the first resend):
    what a partition at its limit left undone is never resent at once into it."""
    ceiling = min(BATCH_BACKOFF_MAX_S, BATCH_BACKOFF_S * 2 ** (attempt - 1))
    time.sleep(random.uniform(0, ceiling))  # noqa: S311 (jitter, not a secret)


def _busy() -> DependencyUnavailable:
    return DependencyUnavailable(
        "storage is busy: requests left unprocessed; retry later",
        retry_after=settings().retry_after_s,
    )


def _until_processed(
    send: Callable[[dict[str, Any]], dict[str, Any]], pending: dict[str, Any]
) -> None:
    """Send `pending` (RequestItems) and what each answer leaves unprocessed again, after a
    backoff, BATCH_ATTEMPTS times at most; then DependencyUnavailable."""
    for attempt in range(BATCH_ATTEMPTS):
        if attempt:
            _back_off(attempt)
        with unavailable_on_failure():
            pending = send(pending)
        if not pending:
            return
    raise _busy()


def batch_write(requests: list[dict[str, Any]]) -> None:
    """One BatchWriteItem of up to 25 requests (puts and deletes, each idempotent), what
    DynamoDB leaves unprocessed sent again after a backoff."""
    _until_processed(
        lambda pending: (
            client().batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
        ),
        {table_name(): requests},
    )


def batch_get(keys: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The items of up to BATCH_GET_KEYS keys (wire format) that exist, strongly consistent,
    in no particular order; keys left unprocessed are asked again after a backoff."""
    items: list[dict[str, Any]] = []

    def send(pending: dict[str, Any]) -> dict[str, Any]:
        response = client().batch_get_item(RequestItems=pending)
        items.extend(from_item(item) for item in response["Responses"].get(table_name(), []))
        return response.get("UnprocessedKeys") or {}

    _until_processed(send, {table_name(): {"Keys": keys, "ConsistentRead": True}})
    return items


def transact_each(actions: list[dict[str, Any]]) -> list[bool]:
    """Up to TRANSACTION_ITEMS writes to distinct items that need not happen together, in
    one TransactWriteItems where possible: for each, True if written, False if its own
    condition refused it. A cancelled transaction writes nothing, so it is sent again
    without the refused ones (CancellationReasons, in the order of the actions), and after
    a backoff when the cancellation was throttling or a conflict with another transaction;
    BATCH_ATTEMPTS of those, then DependencyUnavailable."""
    written = [True] * len(actions)
    pending = list(range(len(actions)))
    resends = 0
    with unavailable_on_failure():
        while pending:
            try:
                client().transact_write_items(
                    TransactItems=[actions[i] for i in pending]  # type: ignore[misc]
                )
                return written
            except ClientError as error:
                if error_code(error) != "TransactionCanceledException":
                    raise
                codes = _cancellation_codes(error)
                if len(codes) != len(pending) or not set(codes) <= _KNOWN_CANCELLATIONS:
                    raise
                refused = {
                    i
                    for i, code in zip(pending, codes, strict=True)
                    if code == "ConditionalCheckFailed"
                }
                for i in refused:
                    written[i] = False
                pending = [i for i in pending if i not in refused]
                if set(codes) & _RETRYABLE_CANCELLATIONS:
                    resends += 1
                    if resends >= BATCH_ATTEMPTS:
                        raise _busy() from error
                    _back_off(resends)
                elif not refused:  # no reason given for any: not ours to guess
                    raise
    return written


Item = TypeVar("Item")
Result = TypeVar("Result")


def in_parallel(work: Callable[[Item], Result], items: list[Item]) -> list[Result]:
    """`work` on each item, BATCHES_IN_FLIGHT at a time, results in order: for independent
    batched requests (the client is thread-safe, and the caller waits on round trips)."""
    if len(items) <= 1:
        return [work(item) for item in items]
    from concurrent.futures import ThreadPoolExecutor  # off the ingest path's cold start

    with ThreadPoolExecutor(max_workers=min(BATCHES_IN_FLIGHT, len(items))) as pool:
        return list(pool.map(work, items))


def transact_all(actions: list[dict[str, Any]]) -> list[bool]:
    """Writes to distinct items that need not happen together, any number: `transact_each`
    of TRANSACTION_ITEMS at a time, BATCHES_IN_FLIGHT at once (a run's cost is round trips).
    For each, in order, False if its own condition refused it."""
    chunks = [actions[i : i + TRANSACTION_ITEMS] for i in range(0, len(actions), TRANSACTION_ITEMS)]
    return [written for chunk in in_parallel(transact_each, chunks) for written in chunk]


def batch_get_all(keys: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The items of any number of keys (wire format) that exist, strongly consistent, in no
    particular order: `batch_get` of BATCH_GET_KEYS at a time, BATCHES_IN_FLIGHT at once."""
    chunks = [keys[i : i + BATCH_GET_KEYS] for i in range(0, len(keys), BATCH_GET_KEYS)]
    return [item for items in in_parallel(batch_get, chunks) for item in items]


def transact(items: list[Any]) -> bool:
    """TransactWriteItems, all or nothing; False when a condition cancelled it. One cancelled
    only because another transaction held one of its items wrote nothing: it is sent again
    after a backoff, BATCH_ATTEMPTS in all, then DependencyUnavailable."""
    resends = 0
    with unavailable_on_failure():
        while True:
            try:
                client().transact_write_items(TransactItems=items)
                return True
            except ClientError as error:
                if _only_conflicts(error) and resends + 1 < BATCH_ATTEMPTS:
                    resends += 1
                    _back_off(resends)
                    continue
                if error_code(error) == "TransactionCanceledException" and not is_retryable(error):
                    return False  # a condition refused it
                raise  # unavailable_on_failure makes a retryable one DependencyUnavailable


def _only_conflicts(error: ClientError) -> bool:
    return set(_cancellation_codes(error)) - {"None"} == {"TransactionConflict"}


def answered(write: Callable[[], bool], fits: Callable[[], bool] = lambda: True) -> bool:
    """The answer of a conditional write, sent again (up to WRITE_TRIES in all) while its
    answer is lost: only an answer tells what it did. A read cannot: the lost write may
    still be on its way (a stall delivers it after the client gave up) and land after the
    read. Sending it again is safe: its condition (the item absent, or as it was read)
    fails if an earlier send landed, and the caller's claim id then tells whose it is
    (invitations and their takes in sms_state.py, notification claims in tasks.py).
    A send starts only while `fits()` (the caller's deadline): DependencyUnavailable
    when none answered, or none could start."""
    for _ in range(WRITE_TRIES):
        if not fits():
            break
        try:
            return write()
        except DependencyUnavailable:
            continue
    raise DependencyUnavailable("storage gave no answer; retry later", settings().retry_after_s)


# Each send is retried by botocore too; after these, the caller gives up (makes its claim
# void, so that a send still on its way cannot land).
WRITE_TRIES = 3
