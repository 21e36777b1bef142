"""Powertools singletons, created once per container and wired as middleware in app.py.

Nothing here may log a phone number or a whole event: log ids and masked values only.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

from aws_lambda_powertools import Logger, Metrics

if TYPE_CHECKING:
    from aws_lambda_powertools import Tracer

SERVICE = "storepulse"

logger = Logger(service=SERVICE)
metrics = Metrics(namespace="storepulse", service=SERVICE)


def tracer() -> Tracer:
    """The Tracer, imported only where tracing is on: its X-Ray SDK costs ~100 ms cold."""
    from aws_lambda_powertools import Tracer

    return Tracer(service=SERVICE)


# Reads (a survey, a kiosk list) publish no metric; that is expected, not worth a warning.
warnings.filterwarnings("ignore", "No application metrics to publish", UserWarning)
