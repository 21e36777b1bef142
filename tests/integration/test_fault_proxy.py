"""The fault proxy itself: each mode gives the failure DynamoDB gives, before or after the
request is done, and only for the operations it is switched on for."""

from __future__ import annotations

import json
import urllib.request
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, ConnectionClosedError, ReadTimeoutError

from devtools.fault_proxy import Fault, FaultProxy

TABLE = "fault-proxy-check"


@pytest.fixture(scope="module")
def proxy(dynamodb_local_server: str) -> Iterator[FaultProxy]:
    proxy = FaultProxy(dynamodb_local_server, stall_s=1.5).start()
    direct = _client(dynamodb_local_server)
    if TABLE not in direct.list_tables()["TableNames"]:
        direct.create_table(
            TableName=TABLE,
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
        )
    yield proxy
    proxy.stop()


@pytest.fixture
def through(proxy: FaultProxy) -> Iterator[Any]:
    """A client through the proxy that never retries and gives up reading after 0.5 s."""
    yield _client(proxy.endpoint, read_timeout=0.5)
    proxy.clear()


def _client(endpoint: str, read_timeout: float = 5) -> Any:
    return boto3.client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
        # total_max_attempts: botocore's `max_attempts` counts retries, not attempts.
        config=Config(read_timeout=read_timeout, retries={"total_max_attempts": 1}),
    )


def _put(client: Any) -> str:
    item_id = uuid.uuid4().hex
    client.put_item(TableName=TABLE, Item={"id": {"S": item_id}})
    return item_id


def _exists(client: Any, item_id: str) -> bool:
    return "Item" in client.get_item(TableName=TABLE, Key={"id": {"S": item_id}})


@pytest.mark.parametrize(
    ("mode", "code"),
    [
        ("throttle", "ProvisionedThroughputExceededException"),
        ("throttling", "ThrottlingException"),
        ("error_500", "InternalServerError"),
        ("internal", "InternalFailure"),
        ("unavailable", "ServiceUnavailable"),
    ],
)
def test_an_error_before_the_write_leaves_nothing_written(
    proxy: FaultProxy, through: Any, mode: str, code: str
) -> None:
    proxy.set_faults([Fault(mode, 1.0, frozenset({"PutItem"}))])

    with pytest.raises(ClientError) as refused:
        _put(through)

    assert refused.value.response["Error"]["Code"] == code
    assert proxy.plan.report()["forwarded"].get("PutItem", 0) == 0


def test_a_500_after_the_write_hides_a_write_that_happened(proxy: FaultProxy, through: Any) -> None:
    proxy.set_faults([Fault("after_500", 1.0, frozenset({"PutItem"}))])
    item_id = uuid.uuid4().hex

    with pytest.raises(ClientError) as refused:
        through.put_item(TableName=TABLE, Item={"id": {"S": item_id}})

    assert refused.value.response["Error"]["Code"] == "InternalServerError"
    assert _exists(through, item_id)  # GetItem is not faulted


@pytest.mark.parametrize(("mode", "written"), [("drop", False), ("after_drop", True)])
def test_a_dropped_connection_gives_no_answer(
    proxy: FaultProxy, through: Any, mode: str, written: bool
) -> None:
    proxy.set_faults([Fault(mode, 1.0, frozenset({"PutItem"}))])
    item_id = uuid.uuid4().hex

    with pytest.raises(ConnectionClosedError):
        through.put_item(TableName=TABLE, Item={"id": {"S": item_id}})

    assert _exists(through, item_id) is written


def test_a_stall_outlasts_the_clients_read_timeout(proxy: FaultProxy, through: Any) -> None:
    proxy.set_faults([Fault("stall", 1.0, frozenset({"PutItem"}))])

    with pytest.raises(ReadTimeoutError):
        _put(through)


def test_faults_are_drawn_with_their_probability_and_repeat_with_a_seed(
    proxy: FaultProxy, through: Any
) -> None:
    def failures(seed: int) -> list[bool]:
        proxy.set_faults([Fault("throttle", 0.3)], seed=seed)
        outcomes = []
        for _ in range(60):
            try:
                through.describe_table(TableName=TABLE)
                outcomes.append(False)
            except ClientError:
                outcomes.append(True)
        return outcomes

    first, again = failures(7), failures(7)

    assert first == again
    assert 6 <= sum(first) <= 30  # 30 % of 60, within a generous band


def test_another_process_switches_faults_through_the_control_endpoint(
    proxy: FaultProxy, through: Any
) -> None:
    def control(method: str, body: dict[str, Any] | None = None) -> Any:
        request = urllib.request.Request(  # noqa: S310
            f"{proxy.endpoint}/__faults",
            data=json.dumps(body).encode() if body is not None else None,
            method=method,
        )
        with urllib.request.urlopen(request, timeout=5) as answer:  # noqa: S310 - loopback http
            return json.loads(answer.read() or b"null")

    read_fails = {"mode": "error_500", "probability": 1, "operations": ["GetItem"]}
    before = control("GET")["injected"]
    control("POST", {"faults": [read_fails]})
    item_id = _put(through)  # PutItem passes
    with pytest.raises(ClientError):
        _exists(through, item_id)
    injected = control("GET")["injected"]
    control("POST", {"faults": []})

    assert [i for i in injected if i not in before] == [
        {"mode": "error_500", "operation": "GetItem", "count": 1}
    ]
    assert _exists(through, item_id)


def test_upstream_connections_are_kept_alive_across_requests(
    proxy: FaultProxy, through: Any
) -> None:
    opened = proxy.upstream_connections
    item_ids = [_put(through) for _ in range(20)]

    assert all(_exists(through, item_id) for item_id in item_ids)
    assert proxy.upstream_connections - opened <= 2  # one, or one more if it was closed


def test_an_unknown_mode_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown fault mode"):
        Fault("explode", 0.5)
