"""A person's own notifications: their e-mail address and phone number subscribed to the
callbacks and alerts topics, each with a filter policy on the messages' attributes
(`domain.people.notification_filters`). In AWS the topics are the stack's; locally they are
on moto's server (`sns_endpoint`), while publishing stays the outbox.

E-mail subscriptions wait for the person to confirm them (SNS e-mails a link); the ARN is
kept from the start (ReturnSubscriptionArn), so a pending one can be removed too.
"""

from __future__ import annotations

import contextlib
import json
from functools import lru_cache
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from ..aws_clients import bounded_client
from ..config import settings
from ..domain.people import NotificationPreferences, Role, Topic, notification_filters
from ..errors import DependencyUnavailable

# A subscription already gone (removed by hand, or a pending one expired) is not a failure.
_GONE = {"NotFound", "NotFoundException", "InvalidParameter"}


@lru_cache(maxsize=1)
def _sns() -> Any:
    return bounded_client(
        "sns", settings().sns_endpoint, connect_timeout_s=2, read_timeout_s=5, attempts=2
    )


def _topic_arn(topic: Topic) -> str:
    config = settings()
    return config.callbacks_topic if topic == "callbacks" else config.alerts_topic


def subscribe(
    email: str,
    role: Role,
    stores: list[str],
    regions: list[str],
    preferences: NotificationPreferences,
) -> list[str]:
    """Subscribe the addresses the person chose (`email`, their phone) to both topics; the
    new subscriptions' ARNs."""
    endpoints = [("email", email)] if preferences.email else []
    if preferences.sms:
        endpoints.append(("sms", preferences.sms))
    arns: list[str] = []
    try:
        for topic, policy in notification_filters(role, stores, regions).items():
            attributes = {"FilterPolicyScope": "MessageAttributes"}
            if policy is not None:
                attributes["FilterPolicy"] = json.dumps(policy)
            for protocol, endpoint in endpoints:
                answer = _sns().subscribe(
                    TopicArn=_topic_arn(topic),
                    Protocol=protocol,
                    Endpoint=endpoint,
                    Attributes=attributes,
                    ReturnSubscriptionArn=True,
                )
                arns.append(str(answer["SubscriptionArn"]))
    except (ClientError, BotoCoreError) as error:
        with contextlib.suppress(DependencyUnavailable):
            unsubscribe(arns)  # none half-made: the caller retries from nothing
        raise DependencyUnavailable(
            "notifications cannot be changed right now; retry later", settings().retry_after_s
        ) from error
    return arns


def unsubscribe(arns: list[str]) -> None:
    """Remove these subscriptions; one already gone is skipped."""
    for arn in arns:
        try:
            _sns().unsubscribe(SubscriptionArn=arn)
        except ClientError as error:
            if str(error.response.get("Error", {}).get("Code", "")) not in _GONE:
                raise DependencyUnavailable(
                    "notifications cannot be changed right now; retry later",
                    settings().retry_after_s,
                ) from error
        except BotoCoreError as error:
            raise DependencyUnavailable(
                "notifications cannot be changed right now; retry later",
                settings().retry_after_s,
            ) from error


def clear_caches() -> None:
    _sns.cache_clear()
