"""Powertools singletons, created once per container and wired as middleware in app.py.

Nothing here may log a phone number or a whole event: log ids and masked values only.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics

if TYPE_CHECKING:
    from aws_lambda_powertools import Tracer

SERVICE = "storepulse"

logger = Logger(service=SERVICE)
metrics = Metrics(namespace="storepulse", service=SERVICE)


_cold_start = True


def powertools_middleware(event: Any, get_response: Callable[[Any], Any]) -> Any:
    """Chalice middleware for every event: the Lambda context on each log line (what
    Logger.inject_lambda_context adds) and EMF metrics flushed at the end (what
    Metrics.log_metrics does). One layer instead of the two decorators wrapped with
    ConvertToMiddleware, which are rebuilt and copy the event on every call: ~10% of a
    single-rating ingest."""
    global _cold_start
    context = getattr(event, "lambda_context", None) or getattr(event, "context", None)
    logger.structure_logs(
        cold_start=_cold_start,
        function_name=getattr(context, "function_name", None),
        function_memory_size=getattr(context, "memory_limit_in_mb", None),
        function_arn=getattr(context, "invoked_function_arn", None),
        function_request_id=getattr(context, "aws_request_id", None),
    )
    _cold_start = False
    try:
        return get_response(event)
    finally:
        metrics.flush_metrics()


def tracer() -> Tracer:
    """The Tracer, imported only where tracing is on: its X-Ray SDK costs ~100 ms cold."""
    from aws_lambda_powertools import Tracer

    return Tracer(service=SERVICE)


# Reads (a survey, a kiosk list) publish no metric; that is expected, not worth a warning.
warnings.filterwarnings("ignore", "No application metrics to publish", UserWarning)
