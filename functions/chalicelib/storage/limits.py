"""Attempt counters for guessable secrets (pairing codes): fixed windows, one item per
scope and window.

Key format
  counter:  pk = LIMIT#<scope>, sk = WINDOW#<window start, epoch s>   (expires_at: TTL)

An attempt is counted by a conditional `ADD`: it succeeds only while the count is below the
limit, so concurrent attempts can never pass it. `ADD` is not idempotent, and here that is
the safe side: a retried request counts twice against the caller, never against the limit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from botocore.exceptions import ClientError

from .dynamodb import client, error_code, table_name, to_item, unavailable_on_failure


@dataclass(frozen=True)
class Limit:
    scope: str  # e.g. "pairing-client:203.0.113.7"
    most: int  # attempts allowed per window


@dataclass(frozen=True)
class Window:
    start: int  # epoch seconds
    seconds: int

    @classmethod
    def at(cls, moment: datetime, seconds: int) -> Window:
        epoch = int(moment.timestamp())
        return cls(start=epoch - epoch % seconds, seconds=seconds)

    def seconds_left(self, moment: datetime) -> int:
        return max(1, self.start + self.seconds - int(moment.timestamp()))


def _key(limit: Limit, window: Window) -> dict[str, str]:
    return {"pk": f"LIMIT#{limit.scope}", "sk": f"WINDOW#{window.start}"}


def count_attempt(limits: list[Limit], window: Window) -> bool:
    """Count one attempt against each limit in turn; False as soon as one is reached (the
    ones before it keep the attempt: a refused caller has tried)."""
    for limit in limits:
        try:
            with unavailable_on_failure():
                client().update_item(
                    TableName=table_name(),
                    Key=to_item(_key(limit, window)),
                    UpdateExpression="ADD attempts :one SET expires_at = :expires",
                    ConditionExpression="attribute_not_exists(attempts) OR attempts < :most",
                    ExpressionAttributeValues=to_item(
                        {
                            ":one": 1,
                            ":most": limit.most,
                            ":expires": window.start + 2 * window.seconds,
                        }
                    ),
                )
        except ClientError as error:
            if error_code(error) == "ConditionalCheckFailedException":
                return False
            raise
    return True


def uncount_attempt(limits: list[Limit], window: Window) -> None:
    """Give back an attempt that succeeded: only failed guesses use up a limit."""
    for limit in limits:
        try:
            with unavailable_on_failure():
                client().update_item(
                    TableName=table_name(),
                    Key=to_item(_key(limit, window)),
                    UpdateExpression="ADD attempts :minus_one",
                    ConditionExpression="attempts > :zero",
                    ExpressionAttributeValues=to_item({":minus_one": -1, ":zero": 0}),
                )
        except ClientError as error:
            if error_code(error) != "ConditionalCheckFailedException":
                raise
