"""The OpenAPI document as the tests' oracle: every answer a test records through the `api`
fixture (tests/conftest.py) is checked against the operation the document gives for it.

`check_answer` finds the operation of a concrete request (`/v1/callbacks/t-1/claim` is
`/v1/callbacks/{task_id}/claim`; a literal segment wins over a template, as in API Gateway),
then requires that the status is documented for it, that the required headers are there,
that a JSON body validates against that status's schema (JSON Schema 2020-12, formats
checked) and that an error's code is one the document gives that status (`x-error-codes`).
It holds answers to more than the published document promises: an object may not carry a
field the document does not name (clients must ignore new fields; our own answers must not
have undocumented ones), and every answer of the app carries X-Correlation-Id.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Mapping
from functools import cache
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker

from chalicelib.api.openapi import document


def check_answer(
    method: str, path: str, status: int, headers: Mapping[str, Any], body: bytes | str | None
) -> None:
    """Raise AssertionError unless the answer is one the OpenAPI document allows."""
    where = f"{method.upper()} {path} -> {status}"
    template, operation = _operation(method, path)
    answer = operation["responses"].get(str(status))
    if answer is None:
        documented = ", ".join(operation["responses"])
        raise AssertionError(f"{where}: status not documented for {template} ({documented})")
    answer = _resolve(answer)
    sent = {name.lower(): value for name, value in headers.items()}
    if "x-correlation-id" not in sent:
        raise AssertionError(f"{where}: no X-Correlation-Id header")
    for name, header in answer.get("headers", {}).items():
        if _resolve(header).get("required") and name.lower() not in sent:
            raise AssertionError(f"{where}: the {name} header is missing")
    if "content" not in answer:  # documented without a body (204)
        if body:
            raise AssertionError(f"{where}: a body where the document gives none: {body!r:.200}")
        return
    # Chalice leaves Content-Type out of a JSON answer: API Gateway then sends it as JSON.
    media = str(sent.get("content-type", "application/json")).split(";")[0].strip()
    content = answer.get("content", {})
    if media not in content:
        raise AssertionError(f"{where}: Content-Type {media!r}, documented {sorted(content)}")
    if media != "application/json":
        return
    try:
        instance = json.loads(body or b"")
    except ValueError:
        raise AssertionError(f"{where}: the body is not JSON: {body!r:.200}") from None
    errors = sorted(
        _validator(content[media]["schema"]["$ref"]).iter_errors(instance),
        key=lambda error: list(error.absolute_path),
    )
    if errors:
        lines = [f"  at {_pointer(e.absolute_path)}: {e.message:.300}" for e in errors[:5]]
        raise AssertionError(
            f"{where}: the body does not fit {content[media]['schema']['$ref']}\n"
            + "\n".join(lines)
        )
    codes = answer.get("x-error-codes")
    if codes is not None and instance["error"]["code"] not in codes:
        raise AssertionError(f"{where}: code {instance['error']['code']!r}, documented {codes}")


def checked(http: Any) -> Any:
    """A chalice test client's `http` whose every answer goes through `check_answer`."""
    request = http.request

    def request_and_check(
        method: str, path: str, headers: dict[str, str] | None = None, body: bytes = b""
    ) -> Any:
        response = request(method, path, headers=headers, body=body)
        check_answer(method, path, response.status_code, response.headers, response.body)
        return response

    http.request = request_and_check  # get, post, ... all call request
    return http


@cache
def _templates() -> list[tuple[re.Pattern[str], str]]:
    """Path templates as patterns, literal ones first (fewest `{...}` segments)."""
    paths = sorted(document()["paths"], key=lambda template: template.count("{"))
    return [(re.compile("^" + re.sub(r"\{[^/]+\}", "[^/]+", t) + "$"), t) for t in paths]


def _operation(method: str, path: str) -> tuple[str, dict[str, Any]]:
    bare = path.split("?", 1)[0]
    for pattern, template in _templates():
        if pattern.match(bare):
            operation = document()["paths"][template].get(method.lower())
            if operation is None:
                raise AssertionError(f"{method.upper()} {path}: {template} has no {method}")
            return template, operation
    raise AssertionError(f"{method.upper()} {path}: no such path in the OpenAPI document")


def _resolve(part: dict[str, Any]) -> dict[str, Any]:
    """A `$ref` to `#/components/...` followed (responses and headers may be shared)."""
    while "$ref" in part:
        node: Any = document()
        for step in part["$ref"].removeprefix("#/").split("/"):
            node = node[step]
        part = node
    return part


@cache
def _validator(ref: str) -> Draft202012Validator:
    root = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "components": {"schemas": _closed(copy.deepcopy(document()["components"]["schemas"]))},
        "$ref": ref,
    }
    Draft202012Validator.check_schema(root)
    return Draft202012Validator(root, format_checker=FormatChecker())


def _closed(schema: Any) -> Any:
    """Every object schema that names its properties and says nothing of others refuses
    others (see the module docstring)."""
    if isinstance(schema, dict):
        if "properties" in schema and "additionalProperties" not in schema:
            schema["additionalProperties"] = False
        for value in schema.values():
            _closed(value)
    elif isinstance(schema, list):
        for value in schema:
            _closed(value)
    return schema


def _pointer(path: Any) -> str:
    return "/" + "/".join(str(part) for part in path)
