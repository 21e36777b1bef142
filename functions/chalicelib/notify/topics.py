"""Publishing a notification: to an SNS topic in AWS (store alerts; callback tasks, their
reminders and escalations), or to the outbox (`STOREPULSE_NOTIFY_BACKEND=outbox`, locally
and in tests): a line in `STOREPULSE_NOTIFICATIONS_LOG`, which the local stack prints, and
`PUBLISHED`, which tests read. With the outbox on, chat copies (`chat.py`) land there too.

Messages carry `store_id` and `kind` (callback messages also `audience`, a store with a
region also `region`) as message attributes, so staff subscribe to their own stores, and
managers to their region's escalations, with a filter policy (`subscriptions.py`).
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any
from uuid import uuid4

from botocore.exceptions import BotoCoreError, ClientError

from ..config import settings
from ..errors import DependencyUnavailable


@lru_cache(maxsize=1)
def _sns() -> Any:
    import boto3

    return boto3.client("sns", region_name=settings().region)


def publish(topic: str, subject: str, message: str, attributes: dict[str, str]) -> str:
    """Publish one message; returns its id. `topic` is an ARN (SNS) or a name (outbox)."""
    config = settings()
    if config.notify_backend == "outbox":
        entry = {"topic": topic, "subject": subject, "message": message, "attributes": attributes}
        if config.notifications_log:
            path = Path(config.notifications_log)
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("a", encoding="utf-8") as log:
                log.write(json.dumps(entry, ensure_ascii=False) + "\n")
        PUBLISHED.append(entry)
        del PUBLISHED[:-1000]
        return f"outbox-{uuid4().hex}"
    try:
        response = _sns().publish(
            TopicArn=topic,
            Subject=subject[:100],
            Message=message,
            MessageAttributes={
                name: {"DataType": "String", "StringValue": value}
                for name, value in attributes.items()
            },
        )
    except (ClientError, BotoCoreError) as error:
        raise DependencyUnavailable("notifications are unavailable; retry", 30) from error
    return str(response["MessageId"])


# What the outbox published in this process (tests read it).
PUBLISHED: list[dict[str, Any]] = []
