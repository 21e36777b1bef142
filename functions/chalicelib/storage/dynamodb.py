"""The DynamoDB client, item (de)serialisation and the mapping of its failures.

The single table holds every item type; key formats live in the modules beside this one
and are written down in docs/data-model.md.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import BotoCoreError, ClientError

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
# Connections to DynamoDB a container may hold: the ingest writes a batch's ratings at most
# this many at a time (botocore's default pool is 10 too; it is named here for that reason).
MAX_CONNECTIONS = 10

_client_lock = threading.Lock()


@lru_cache(maxsize=1)
def client() -> DynamoDBClient:
    """One client per Lambda container, created on first use (cold start is a budget).
    Safe to use from several threads; it is created under a lock (boto3's default session
    is not safe to create clients from concurrently)."""
    import boto3
    from botocore.config import Config

    config = settings()
    with _client_lock:
        # The default session: a new Session would load botocore's data files again (~90 ms).
        return boto3.client(
            "dynamodb",
            region_name=config.region,
            endpoint_url=config.dynamodb_endpoint,
            config=Config(
                connect_timeout=config.dynamodb_connect_timeout_s,
                read_timeout=config.dynamodb_read_timeout_s,
                # total_max_attempts counts the first attempt (max_attempts would count
                # retries): one call then takes at most config.dynamodb_worst_call_s.
                retries={"mode": "standard", "total_max_attempts": config.dynamodb_attempts},
                max_pool_connections=MAX_CONNECTIONS,
                # Requests are built by this layer from validated models; botocore's
                # per-attribute re-validation costs ~0.1 ms per PutItem on the ingest path.
                parameter_validation=False,
            ),
        )


def worst_call_s() -> float:
    """The longest one DynamoDB call may take with this client's settings (seconds)."""
    return settings().dynamodb_worst_call_s


def table_name() -> str:
    return settings().table_name


def to_item(values: dict[str, Any]) -> dict[str, Any]:
    return {k: _serializer.serialize(v) for k, v in values.items() if v is not None}


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


def is_retryable(error: ClientError) -> bool:
    """Whether DynamoDB's answer means "try again later": throttling, an internal error or
    an outage (any 5xx), a transaction cancelled only by throttling or a conflict."""
    response: dict[str, Any] = dict(error.response)
    status = (response.get("ResponseMetadata") or {}).get("HTTPStatusCode") or 0
    if error_code(error) in _RETRYABLE or int(status) >= 500:
        return True
    if error_code(error) == "TransactionCanceledException":
        reasons = {
            str(reason.get("Code", "None")) for reason in response.get("CancellationReasons") or []
        }
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


def query_all(**kwargs: Any) -> list[dict[str, Any]]:
    """Every item a Query matches, following its pages."""
    items: list[dict[str, Any]] = []
    request: dict[str, Any] = {"TableName": table_name(), **kwargs}
    with unavailable_on_failure():
        while True:
            response = client().query(**request)
            items.extend(from_item(item) for item in response.get("Items", []))
            if "LastEvaluatedKey" not in response:
                return items
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
    try:
        with unavailable_on_failure():
            client().put_item(**request)
    except ClientError as error:
        if error_code(error) == "ConditionalCheckFailedException":
            return False
        raise
    return True


def transact(items: list[Any]) -> bool:
    """TransactWriteItems, all or nothing; False when a condition cancelled it."""
    try:
        with unavailable_on_failure():
            client().transact_write_items(TransactItems=items)
    except ClientError as error:
        if error_code(error) == "TransactionCanceledException":
            return False
        raise
    return True
