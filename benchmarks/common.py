"""What the benchmarks share: the environment the app runs with, DynamoDB Local started for
a run, `--quick` runs and the PASS/FAIL verdict. Standard library only at module level, so
the ingest benchmark's cold-start subprocess still measures every import the handler needs."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "functions"))  # app.py and chalicelib import as in Lambda

ENV = {
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_DEFAULT_REGION": "us-east-1",
    "STOREPULSE_SECRETS_BACKEND": "env",
    "STOREPULSE_SECRET_STOREPULSE_TOKEN_SIGNING_KEY": "bench-signing-key-0123456789abcdef0123",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_SERVICE_NAME": "storepulse",
    "POWERTOOLS_METRICS_NAMESPACE": "storepulse",
    "PYDANTIC_DISABLE_PLUGINS": "__all__",  # as functions/.chalice/config.json deploys it
}

# `python -m benchmarks.<name> --quick`: a tenth of the work, to see that a benchmark runs
# (figures too noisy to quote).
QUICK = "--quick" in sys.argv[1:]


def scaled(count: int) -> int:
    """`count`, or a tenth of it (at least 1) in a --quick run."""
    return max(1, count // 10) if QUICK else count


def verdict(value: float, budget: float, *, below: bool = False) -> str:
    """PASS when `value` is within `budget`: at most it, or under it with `below` (a budget
    the README states as "under")."""
    ok = value < budget if below else value <= budget
    return f"{'PASS' if ok else 'FAIL'} (budget {'<' if below else '<='} {budget:g})"


@contextmanager
def on_dynamodb_local(**env: str) -> Iterator[str]:
    """The benchmark environment (ENV and `env`) set and DynamoDB Local running for the
    block; yields its endpoint."""
    sys.dont_write_bytecode = True  # leave no __pycache__ in the source tree
    os.environ.update(ENV | env)
    from devtools import dynamodb_local

    server = dynamodb_local.start()
    try:
        os.environ["STOREPULSE_DYNAMODB_ENDPOINT"] = server.endpoint
        yield server.endpoint
    finally:
        server.stop()
