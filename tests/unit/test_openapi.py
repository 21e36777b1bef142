"""The OpenAPI document: valid OpenAPI 3.1, every route of the app and nothing else, served
without a credential; and the checker the other tests validate their answers with."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from openapi_spec_validator import OpenAPIV31SpecValidator

from chalicelib.api.openapi import OPERATIONS, document
from tests.contract import check_answer

pytestmark = pytest.mark.unit

FUNCTIONS = Path(__file__).resolve().parents[2] / "functions"
BUILDER = ("chalicelib.api.openapi", "chalicelib.api.schemas")
JSON = {"Content-Type": "application/json", "X-Correlation-Id": "c-1"}


def test_the_document_is_valid_openapi_3_1():
    OpenAPIV31SpecValidator(document()).validate()


def test_every_route_of_the_app_is_documented_and_nothing_else():
    from app import app

    routes = {(path, method) for path, views in app.routes.items() for method in views}
    documented = {
        (path, method.upper())
        for path, operations in document()["paths"].items()
        for method in operations
    }

    assert documented == routes


def test_every_operation_has_its_credential_answers_and_errors():
    for operation in OPERATIONS:
        described = document()["paths"][operation.path][operation.method.lower()]
        statuses = set(described["responses"])

        assert {"413", "415", "429", "500", "503"} <= statuses, operation.operation_id
        assert any(s.startswith("2") for s in statuses), operation.operation_id
        if operation.security:
            assert "401" in statuses or operation.security == "twilio", operation.operation_id
            assert operation.security in document()["components"]["securitySchemes"]


def test_the_route_answers_the_document_without_a_credential():
    from chalice.test import Client

    from app import app

    with Client(app) as client:  # no table: the document needs none
        response = client.http.get("/v1/openapi.json")

    assert response.status_code == 200
    assert response.json_body == json.loads(json.dumps(document()))
    check_answer("GET", "/v1/openapi.json", 200, response.headers, response.body)


def test_a_cold_start_does_not_load_the_document_builder():
    """app.py registers the route; the builder and its models load on the route's first
    request, so the kiosk ingest path's cold start imports nothing more than before."""
    import subprocess
    import sys

    probe = f"import sys, app; print(sorted(set(sys.modules) & {set(BUILDER)!r}))"
    loaded = subprocess.run(
        [sys.executable, "-c", probe], cwd=FUNCTIONS, capture_output=True, text=True, check=True
    ).stdout.split("\n")[-2]

    assert loaded == "[]"


@pytest.mark.parametrize(
    ("method", "path", "status", "body", "wrong"),
    [
        ("GET", "/v1/callbacks/limits", 200, {"note_max_chars": "many"}, "is not of type"),
        ("GET", "/v1/callbacks/limits", 200, {"note_max_chars": 1, "extra": 2}, "extra"),
        ("GET", "/v1/callbacks/limits", 418, {}, "not documented"),
        ("GET", "/v1/callbacks/t-1", 404, {"error": {"code": "not_found"}}, "required"),
        ("DELETE", "/v1/callbacks/t-1", 405, {}, "has no DELETE"),
        ("GET", "/v2/nothing", 404, {}, "no such path"),
    ],
)
def test_an_answer_the_document_does_not_allow_is_an_assertion(method, path, status, body, wrong):
    with pytest.raises(AssertionError, match=wrong):
        check_answer(method, path, status, JSON, json.dumps(body).encode())


def test_a_concrete_path_finds_its_template_and_a_literal_one_wins():
    task = {
        "task_id": "t-1",
        "store_id": "store-a",
        "status": "open",
        "priority": 1,
        "created_at": "2026-12-01T10:00:00+00:00",
        "due_at": "2026-12-02T10:00:00+00:00",
        "claimed_by": None,
        "outcome": None,
        "contact": {"phone_masked": "+1******0123", "name": None, "consent": None},
        "ratings": [],
    }
    check_answer("POST", "/v1/callbacks/t-1/claim", 200, JSON, json.dumps(task))
    check_answer("GET", "/v1/callbacks/limits?x=1", 200, JSON, b'{"note_max_chars": 1000}')
    with pytest.raises(AssertionError, match="date-time"):
        check_answer("GET", "/v1/callbacks/t-1", 200, JSON, json.dumps(task | {"due_at": "soon"}))


def test_an_error_code_must_be_one_its_status_has():
    body = {"error": {"code": "conflict", "message": "m", "details": []}}

    with pytest.raises(AssertionError, match="code 'conflict'"):
        check_answer("GET", "/v1/callbacks/t-1", 404, JSON, json.dumps(body))
    check_answer("POST", "/v1/callbacks/t-1/claim", 409, JSON, json.dumps(body))


def test_every_error_answer_lists_the_codes_of_the_one_table():
    from chalicelib.api.http import answers

    responses = document()["components"]["responses"]
    for status, code in answers().values():
        if str(status) in responses:
            assert code in responses[str(status)]["x-error-codes"]
    assert responses["500"]["x-error-codes"] == ["internal_error"]


def test_retry_after_is_required_on_a_503():
    body = json.dumps({"error": {"code": "unavailable", "message": "m", "details": []}})

    with pytest.raises(AssertionError, match="Retry-After"):
        check_answer("GET", "/v1/callbacks/limits", 503, JSON, body)
    check_answer("GET", "/v1/callbacks/limits", 503, JSON | {"Retry-After": "5"}, body)


def test_the_ratings_answer_documents_retry_and_its_optional_retry_after():
    ratings = document()["paths"]["/v1/kiosk/ratings"]["post"]["responses"]
    result = document()["components"]["schemas"]["RatingResult"]["properties"]["status"]

    assert "retry" in result["enum"]
    assert ratings["200"]["headers"]["Retry-After"]["required"] is False
    assert ratings["200"]["headers"]["Retry-After"]["schema"] == {"type": "integer", "minimum": 0}
    assert "none was written" in ratings["503"]["description"]
    partly = {
        "results": [{"rating_id": "a", "status": "stored"}, {"rating_id": "b", "status": "retry"}]
    }
    check_answer("POST", "/v1/kiosk/ratings", 200, JSON | {"Retry-After": "5"}, json.dumps(partly))
    check_answer("POST", "/v1/kiosk/ratings", 200, JSON, json.dumps({"results": []}))


def test_a_503_of_the_ratings_route_gives_each_ratings_status():
    details = [{"rating_id": "a", "status": "retry"}, {"rating_id": None, "status": "rejected"}]
    body = {"error": {"code": "unavailable", "message": "m", "details": details}}

    check_answer("POST", "/v1/kiosk/ratings", 503, JSON | {"Retry-After": "5"}, json.dumps(body))
    body["error"]["details"] = [{"rating_id": "a", "status": "lost"}]
    with pytest.raises(AssertionError, match="details"):
        check_answer(
            "POST", "/v1/kiosk/ratings", 503, JSON | {"Retry-After": "5"}, json.dumps(body)
        )
