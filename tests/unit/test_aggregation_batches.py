"""The batched requests of the scheduled aggregation, against fake clients (plain values):
BatchGetItem's unprocessed keys asked again after a backoff, and TransactWriteItems of
independent conditional writes whose refused items are told apart by CancellationReasons;
the all-or-nothing `transact` sent again after a conflict."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from chalicelib.errors import DependencyUnavailable
from chalicelib.storage import dynamodb


def key(number: int) -> dict[str, Any]:
    return {"id": {"N": str(number)}}  # the fakes take any key


class BatchGets:
    """BatchGetItem that answers the first key of each request and leaves the rest
    unprocessed `times` times, then answers them all."""

    def __init__(self, table: str, times: int) -> None:
        self.table, self.times, self.calls = table, times, 0

    def batch_get_item(self, RequestItems: dict) -> dict:  # botocore names it so
        self.calls += 1
        keys = RequestItems[self.table]["Keys"]
        assert RequestItems[self.table]["ConsistentRead"] is True
        answered, left = (keys[:1], keys[1:]) if self.calls <= self.times else (keys, [])
        unprocessed = {self.table: {"Keys": left, "ConsistentRead": True}} if left else {}
        return {"Responses": {self.table: answered}, "UnprocessedKeys": unprocessed}


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    waited: list[float] = []
    monkeypatch.setattr(dynamodb.random, "uniform", lambda low, high: high)  # the ceiling
    monkeypatch.setattr(dynamodb.time, "sleep", waited.append)
    return waited


def test_unprocessed_keys_are_asked_again_after_a_growing_backoff(monkeypatch, waits):
    fake = BatchGets(dynamodb.table_name(), times=2)
    monkeypatch.setattr(dynamodb, "client", lambda: fake)

    items = dynamodb.batch_get([key(n) for n in range(5)])

    assert sorted(int(item["id"]) for item in items) == [0, 1, 2, 3, 4]
    assert fake.calls == 3
    assert waits == [0.05, 0.1]


def test_keys_still_unprocessed_after_the_last_attempt_are_a_storage_error(monkeypatch, waits):
    fake = BatchGets(dynamodb.table_name(), times=100)
    monkeypatch.setattr(dynamodb, "client", lambda: fake)

    with pytest.raises(DependencyUnavailable):
        dynamodb.batch_get([key(n) for n in range(dynamodb.BATCH_ATTEMPTS + 5)])
    assert fake.calls == dynamodb.BATCH_ATTEMPTS


class Transactions:
    """TransactWriteItems that cancels while any action is in `refused` (its condition
    fails) or while `conflicts` lasts (another transaction on an item), as DynamoDB does:
    nothing written, one reason per action in order."""

    def __init__(self, refused: set[int], conflicts: int = 0) -> None:
        self.refused, self.conflicts = refused, conflicts
        self.sent: list[list[int]] = []

    def transact_write_items(self, TransactItems: list) -> dict:  # botocore names it so
        numbers = [int(action["Update"]["Key"]["id"]["N"]) for action in TransactItems]
        self.sent.append(numbers)
        if self.conflicts:
            self.conflicts -= 1
            codes = ["TransactionConflict" if n == numbers[0] else "None" for n in numbers]
        elif self.refused & set(numbers):
            codes = ["ConditionalCheckFailed" if n in self.refused else "None" for n in numbers]
        else:
            return {}
        raise ClientError(
            {
                "Error": {"Code": "TransactionCanceledException", "Message": "cancelled"},
                "CancellationReasons": [{"Code": code} for code in codes],
            },
            "TransactWriteItems",
        )


def updates(count: int) -> list[dict[str, Any]]:
    return [{"Update": {"Key": key(n)}} for n in range(count)]


def test_refused_items_are_reported_and_the_others_written_without_them(monkeypatch, waits):
    fake = Transactions(refused={1, 3})
    monkeypatch.setattr(dynamodb, "client", lambda: fake)

    written = dynamodb.transact_each(updates(5))

    assert written == [True, False, True, False, True]
    assert fake.sent == [[0, 1, 2, 3, 4], [0, 2, 4]]  # the second one took
    assert waits == []  # a refusal is an answer: nothing to wait for


def test_a_transaction_in_conflict_is_sent_again_after_a_backoff(monkeypatch, waits):
    fake = Transactions(refused=set(), conflicts=2)
    monkeypatch.setattr(dynamodb, "client", lambda: fake)

    assert dynamodb.transact_each(updates(3)) == [True, True, True]
    assert len(fake.sent) == 3
    assert waits == [0.05, 0.1]


def test_conflicts_that_last_past_the_attempts_are_a_storage_error(monkeypatch, waits):
    fake = Transactions(refused=set(), conflicts=100)
    monkeypatch.setattr(dynamodb, "client", lambda: fake)

    with pytest.raises(DependencyUnavailable):
        dynamodb.transact_each(updates(3))
    assert len(fake.sent) == dynamodb.BATCH_ATTEMPTS


def test_every_item_refused_writes_nothing_and_says_so(monkeypatch, waits):
    fake = Transactions(refused={0, 1})
    monkeypatch.setattr(dynamodb, "client", lambda: fake)

    assert dynamodb.transact_each(updates(2)) == [False, False]
    assert fake.sent == [[0, 1]]


def test_an_all_or_nothing_transaction_in_conflict_is_sent_again(monkeypatch, waits):
    fake = Transactions(refused=set(), conflicts=2)
    monkeypatch.setattr(dynamodb, "client", lambda: fake)

    assert dynamodb.transact(updates(2)) is True
    assert fake.sent == [[0, 1]] * 3
    assert waits == [0.05, 0.1]


def test_an_all_or_nothing_transaction_says_false_only_for_a_condition(monkeypatch, waits):
    refused = Transactions(refused={1})
    monkeypatch.setattr(dynamodb, "client", lambda: refused)
    assert dynamodb.transact(updates(2)) is False
    assert refused.sent == [[0, 1]]

    busy = Transactions(refused=set(), conflicts=100)
    monkeypatch.setattr(dynamodb, "client", lambda: busy)
    with pytest.raises(DependencyUnavailable):
        dynamodb.transact(updates(2))
    assert len(busy.sent) == dynamodb.BATCH_ATTEMPTS
