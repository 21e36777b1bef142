"""Logs are structured, carry a correlation id, and never hold a phone number; metrics are EMF."""

from __future__ import annotations

import io
import json
import sys

from chalicelib.observability import logger
from tests.conftest import kiosk_rating, rating_batch


def test_logs_carry_a_correlation_id_and_no_phone_and_metrics_are_emitted(
    api, kiosk_headers, store, monkeypatch
):
    # Powertools writes to the stream it found at import; point it at a buffer.
    buffer = io.StringIO()
    monkeypatch.setattr(logger.registered_handler, "stream", buffer)
    monkeypatch.setattr(sys, "stdout", buffer)  # EMF metrics are printed
    phone = "+14155550123"
    good = kiosk_rating(score=1, callback={"phone": phone, "name": "Ana", "consent": True})
    bad = kiosk_rating(score=1, callback={"phone": phone, "consent": False})

    response = api.http.post(
        "/v1/kiosk/ratings",
        headers=kiosk_headers | {"X-Correlation-Id": "sync-42"},
        body=json.dumps(rating_batch(good, bad)),
    )

    output = buffer.getvalue()
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    logs = [line for line in lines if "message" in line]
    emf = [line for line in lines if "_aws" in line]
    assert response.status_code == 200
    assert phone not in output
    assert "Ana" not in output
    assert any(log["message"] == "ratings ingested" for log in logs)
    assert all(log.get("correlation_id") == "sync-42" for log in logs)
    assert all(log.get("function_request_id") and "cold_start" in log for log in logs)
    assert response.headers["X-Correlation-Id"] == "sync-42"
    assert emf
    assert emf[-1]["ratings_stored"] == [1.0]
    assert emf[-1]["ratings_rejected"] == [1.0]
