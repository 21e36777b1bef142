"""The one table of the HTTP boundary: each error the app raises answers with its status, code
and error body (Retry-After where it says when to retry); anything else is a 500 that shows
no trace. Through a Chalice app too: Chalice answers a view's unknown exception itself, so
the blueprint must carry the table's errors past it. And every class of DynamoDB failure
(throttling, internal errors, outages, timeouts, dropped connections) is a 503 with
Retry-After, never a 500."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)
from chalice import Chalice
from chalice.test import Client

from chalicelib.api.http import ApiBlueprint, answers, error_response, http_boundary
from chalicelib.config import Settings
from chalicelib.domain.tasks import OutOfScale, TransitionError
from chalicelib.errors import (
    BadRequest,
    Conflict,
    DependencyUnavailable,
    Forbidden,
    InvalidPairingCode,
    MalformedJson,
    NotFound,
    PayloadTooLarge,
    RateLimited,
    ScaleLocked,
    StoreExists,
    Unauthorized,
    UnsupportedMediaType,
)
from chalicelib.storage.dynamodb import is_retryable, unavailable_on_failure

pytestmark = pytest.mark.unit

CASES = [
    (BadRequest("store_id is required"), 400, "bad_request"),
    (MalformedJson("the body is not valid JSON"), 400, "malformed_json"),
    (OutOfScale("recovered_score must be between 1 and 5"), 400, "bad_request"),
    (Unauthorized("the token has expired"), 401, "unauthorized"),
    (InvalidPairingCode("the pairing code is unknown"), 401, "invalid_pairing_code"),
    (Forbidden("the store-group view is for admins"), 403, "forbidden"),
    (NotFound("store s-1 does not exist"), 404, "not_found"),
    (Conflict("the task changed meanwhile; reload it"), 409, "conflict"),
    (TransitionError("the task is resolved already"), 409, "conflict"),
    (StoreExists("store s-1 exists already"), 409, "store_exists"),
    (ScaleLocked("the store has ratings on its scale"), 409, "scale_locked"),
    (PayloadTooLarge("the body is larger than 10 bytes"), 413, "payload_too_large"),
    (UnsupportedMediaType("send the body as application/json"), 415, "unsupported_media_type"),
    (RateLimited("too many pairing attempts", 30), 429, "rate_limited"),
    (DependencyUnavailable("storage is busy; retry later", 2), 503, "unavailable"),
]

NAMES = [type(error).__name__ for error, _, _ in CASES]


@pytest.mark.parametrize(("error", "status", "code"), CASES, ids=NAMES)
def test_each_error_answers_with_its_status_code_and_message(
    error: Exception, status: int, code: str
) -> None:
    response = error_response(error)

    assert response.status_code == status
    assert response.body == {"error": {"code": code, "message": str(error), "details": []}}


def test_every_class_of_the_table_is_tested() -> None:
    assert {type(error) for error, _, _ in CASES} == set(answers())


@pytest.mark.parametrize(
    ("error", "retry_after"),
    [(RateLimited("too many pairing attempts", 30), "30"), (DependencyUnavailable("busy", 2), "2")],
)
def test_an_error_that_says_when_to_retry_answers_with_retry_after(
    error: Exception, retry_after: str
) -> None:
    assert error_response(error).headers == {"Retry-After": retry_after}


def test_details_reach_the_body_and_other_errors_carry_no_headers() -> None:
    error = BadRequest("the body is not a valid request", [{"field": "score", "message": "x"}])

    response = error_response(error)

    assert response.body["error"]["details"] == [{"field": "score", "message": "x"}]
    assert response.headers == {}


def test_a_subclass_answers_as_its_nearest_listed_parent() -> None:
    class KioskGone(NotFound):
        pass

    assert error_response(KioskGone("kiosk k-1 does not exist")).status_code == 404


@pytest.mark.parametrize("error", [KeyError("store_id"), ValueError("bad"), RuntimeError("boom")])
def test_an_unknown_error_is_a_500_without_a_trace(error: Exception) -> None:
    response = error_response(error)

    assert response.status_code == 500
    assert response.body == {
        "error": {"code": "internal_error", "message": "an internal error occurred", "details": []}
    }
    assert str(error) not in json.dumps(response.body)


@pytest.fixture
def client() -> Iterator[Client]:
    app = Chalice(app_name="errors-test")
    app.register_middleware(http_boundary, "http")
    bp = ApiBlueprint(__name__)

    @bp.route("/refused")
    def refused() -> Any:
        raise DependencyUnavailable("storage is busy; retry later", 2)

    @bp.route("/rule")
    def rule() -> Any:
        raise TransitionError("the task is claimed by alice")

    @bp.route("/bug")
    def bug() -> Any:
        raise KeyError("store_id")

    @bp.route("/storage/{code}")
    def storage(code: str) -> Any:
        with unavailable_on_failure():
            raise _client_error(code, 500)

    @bp.route("/fine/{name}")
    def fine(name: str) -> Any:
        """A view keeps its name, its docstring and its path arguments."""
        return {"name": name}

    app.register_blueprint(bp)
    with Client(app) as test_client:
        yield test_client


def test_a_views_error_reaches_the_boundary_with_its_answer(client: Client) -> None:
    response = client.http.get("/refused")

    assert response.status_code == 503
    assert response.headers["Retry-After"] == "2"
    assert json.loads(response.body)["error"]["code"] == "unavailable"


def test_a_domain_rule_a_view_breaks_is_answered_from_the_table(client: Client) -> None:
    response = client.http.get("/rule")

    assert response.status_code == 409
    assert json.loads(response.body)["error"] == {
        "code": "conflict",
        "message": "the task is claimed by alice",
        "details": [],
    }


def test_a_bug_in_a_view_is_chalices_500_in_our_error_body(client: Client) -> None:
    response = client.http.get("/bug")

    assert response.status_code == 500
    assert json.loads(response.body) == {
        "error": {"code": "internal_error", "message": "an internal error occurred", "details": []}
    }
    assert b"Traceback" not in response.body


def test_a_wrapped_view_answers_as_before(client: Client) -> None:
    response = client.http.get("/fine/ada")

    assert response.status_code == 200
    assert json.loads(response.body) == {"name": "ada"}


# DynamoDB's failures, as botocore raises them: each is the caller's "retry later", a 503
# with Retry-After from every route (storage/dynamodb.py maps them; api/http.py answers).
def _client_error(code: str, status: int, **extra: Any) -> ClientError:
    response: Any = {"Error": {"Code": code, "Message": code}, **extra}
    response["ResponseMetadata"] = {"HTTPStatusCode": status}
    return ClientError(response, "PutItem")


STORAGE_FAILURES = [
    _client_error("ProvisionedThroughputExceededException", 400),
    _client_error("ThrottlingException", 400),
    _client_error("RequestLimitExceeded", 400),
    _client_error("InternalServerError", 500),
    _client_error("InternalFailure", 500),
    _client_error("ServiceUnavailable", 503),
    _client_error("SomethingNewAndBroken", 502),  # any other 5xx
    _client_error("TransactionConflictException", 400),
    _client_error(
        "TransactionCanceledException",
        400,
        CancellationReasons=[{"Code": "None"}, {"Code": "ThrottlingError"}],
    ),
    ReadTimeoutError(endpoint_url="http://dynamodb"),
    ConnectTimeoutError(endpoint_url="http://dynamodb"),
    ConnectionClosedError(endpoint_url="http://dynamodb"),
    EndpointConnectionError(endpoint_url="http://dynamodb"),
]


@pytest.mark.parametrize("failure", STORAGE_FAILURES, ids=lambda f: type(f).__name__ + str(f)[:40])
def test_every_dynamodb_failure_class_answers_503_with_retry_after(failure: Exception) -> None:
    with pytest.raises(DependencyUnavailable) as raised, unavailable_on_failure():
        raise failure

    response = error_response(raised.value)

    assert response.status_code == 503
    assert response.headers == {"Retry-After": "5"}
    assert response.body["error"]["code"] == "unavailable"


@pytest.mark.parametrize(
    "refusal",
    [
        _client_error("ConditionalCheckFailedException", 400),
        _client_error("ValidationException", 400),
        _client_error(
            "TransactionCanceledException",
            400,
            CancellationReasons=[{"Code": "ConditionalCheckFailed"}, {"Code": "None"}],
        ),
    ],
    ids=["condition", "validation", "cancelled by a condition"],
)
def test_a_refusal_of_the_request_itself_is_left_to_the_caller(refusal: ClientError) -> None:
    with pytest.raises(ClientError), unavailable_on_failure():
        raise refusal


def test_a_throttled_transaction_is_not_taken_for_a_refused_condition() -> None:
    assert is_retryable(
        _client_error(
            "TransactionCanceledException",
            400,
            CancellationReasons=[{"Code": "TransactionConflict"}],
        )
    )
    assert not is_retryable(
        _client_error(
            "TransactionCanceledException",
            400,
            CancellationReasons=[{"Code": "ConditionalCheckFailed"}, {"Code": "ThrottlingError"}],
        )
    )


def test_a_storage_failure_in_any_route_answers_503(client: Client) -> None:
    response = client.http.get("/storage/InternalFailure")

    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert json.loads(response.body)["error"]["code"] == "unavailable"


def test_one_calls_worst_case_is_the_arithmetic_of_the_readme() -> None:
    # 3 attempts x (1 s to connect + 2 s to read) + botocore's longest backoffs, 1 s and 2 s.
    defaults = Settings(table_name="t")
    assert defaults.dynamodb_worst_call_s == 3 * (1 + 2) + 1 + 2
    assert Settings(table_name="t", dynamodb_attempts=1).dynamodb_worst_call_s == 3
