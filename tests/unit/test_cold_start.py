"""What a cold start of the API function imports: the blueprints (Chalice needs every route
registered) and what the kiosk's ingest needs, nothing more. The staff, admin, people,
webhook and link flows load on their own first request (cold start is a budget:
README, Benchmarks)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

FUNCTIONS = Path(__file__).resolve().parents[2] / "functions"

# POST /v1/kiosk/ratings: its token, its store (and revocation list), the models of a rating
# and its visit, the writes, logs and metrics.
KIOSK_INGEST = {
    "chalicelib",
    "chalicelib.auth",
    "chalicelib.aws_clients",
    "chalicelib.clock",
    "chalicelib.config",
    "chalicelib.domain",
    "chalicelib.domain.consent",
    "chalicelib.domain.kiosks",
    "chalicelib.domain.phones",
    "chalicelib.domain.ratings",
    "chalicelib.domain.survey",
    "chalicelib.domain.text",
    "chalicelib.domain.visits",
    "chalicelib.errors",
    "chalicelib.flows",
    "chalicelib.flows.kiosk_ingest",
    "chalicelib.observability",
    "chalicelib.storage",
    "chalicelib.storage.dynamodb",
    "chalicelib.storage.ratings",
    "chalicelib.storage.stores",
    "chalicelib.storage.visits",
    "chalicelib.tokens",
}


def test_a_cold_start_imports_the_routes_and_the_kiosk_ingest_only():
    probe = "import sys, app; print(' '.join(m for m in sys.modules if m.startswith('chalicelib')))"
    loaded = subprocess.run(
        [sys.executable, "-c", probe], cwd=FUNCTIONS, capture_output=True, text=True, check=True
    ).stdout.split("\n")[-2]

    beyond_routes = {m for m in loaded.split() if not m.startswith("chalicelib.api")}
    assert beyond_routes - KIOSK_INGEST == set(), "import these in the handlers that need them"
    assert KIOSK_INGEST - beyond_routes == set(), "the kiosk ingest needs less: update the list"
    routes = {m for m in loaded.split() if m.startswith("chalicelib.api.")}
    assert {m.removeprefix("chalicelib.api.") for m in routes} == {
        path.stem for path in (FUNCTIONS / "chalicelib" / "api").glob("*_routes.py")
    } | {"http"}
