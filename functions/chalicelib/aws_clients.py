"""boto3 clients, one per service and container, created on first use (cold start is a
budget) and bounded: every call has connect and read timeouts and a number of attempts in
all, so a slow service is the caller's DependencyUnavailable in seconds, not a hung Lambda.
"""

from __future__ import annotations

import threading
from typing import Any

from .config import settings

# boto3's default session is not safe to create clients from concurrently; a new Session
# would load botocore's data files again (~90 ms), so every client is made here, under one lock.
_lock = threading.Lock()


def bounded_client(
    service: str,
    endpoint: str | None,
    *,
    connect_timeout_s: float,
    read_timeout_s: float,
    attempts: int,
    **config: Any,
) -> Any:
    """A client of `service` (at `endpoint`, set only locally) in botocore's standard retry
    mode with `attempts` in all: `total_max_attempts` counts the first one (`max_attempts`
    would count retries)."""
    import boto3
    from botocore.config import Config

    with _lock:
        return boto3.client(  # type: ignore[call-overload]  # any service, by name
            service,
            region_name=settings().region,
            endpoint_url=endpoint,
            config=Config(
                connect_timeout=connect_timeout_s,
                read_timeout=read_timeout_s,
                retries={"mode": "standard", "total_max_attempts": attempts},
                **config,
            ),
        )
