"""Property: whatever a client sends to any route of the app (generated paths, queries,
headers and bodies, from random bytes to near-valid requests), the answer is never a server
error (except 503 with Retry-After) and every 4xx has exactly the error body.

The routes are read from `app.routes`, so a new route is fuzzed without touching this file,
and so are the credentials it takes (asked of the route itself). Each request is valid but
for one part (FOCI: path, query, authorization, headers, body) or wrong everywhere, so the
hostile part reaches the code behind validation and authentication.

Storage is moto (with DynamoDB's key size limits added, which moto lacks), seeded with two
stores, a kiosk and a callback task so that valid ids and credentials reach the deep paths;
the requests may change that state as they go (revoke the kiosk, claim the task), which is
fine: no state may turn input into a 5xx either. Requests go through chalice's test client;
what it cannot carry and API Gateway would never deliver is left out, where it is built.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib import tokens
from chalicelib.auth import issue_integration_token, issue_kiosk_token, issue_staff_token
from chalicelib.notify.twilio_webhook import twilio_signature
from chalicelib.storage import dynamodb, stores
from devtools import dynamodb_local
from tests.conftest import iso, make_store, reset_caches

pytestmark = pytest.mark.unit

WEBHOOK = os.environ["STOREPULSE_TWILIO_WEBHOOK_URL"]
TWILIO_TOKEN = os.environ["STOREPULSE_SECRET_STOREPULSE_TWILIO_AUTH_TOKEN"]
# About 2,000 requests in all, shared by the routes, methods and foci (see FOCI): 40-60 s
# on moto, the same ones on every run (a failure in `make test` is reproducible). That finds
# the usual suspects; rarer combinations take a longer hunt, N requests per route, method and
# focus, new ones on each run:
#   STOREPULSE_FUZZ_EXAMPLES=200 .venv/bin/python -m pytest tests/unit/test_fuzz_routes.py
BUDGET = 2000
HUNT = os.environ.get("STOREPULSE_FUZZ_EXAMPLES")
FUZZ = settings(
    deadline=None,
    derandomize=not HUNT,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


class Seeded:
    """The app, a client and what exists in its table."""

    def __init__(self, client: Any, kiosk_id: str, task_id: str, pairing_code: str) -> None:
        self.client, self.kiosk_id, self.task_id = client, kiosk_id, task_id
        self.pairing_code = pairing_code
        at = datetime.now(UTC)
        staff = issue_staff_token("alice", "staff", ["store-a"], at)
        self.credentials = {
            "kiosk": issue_kiosk_token(kiosk_id, "store-a", at),
            "kiosk of a store that does not exist": issue_kiosk_token("k-x", "store-zz", at),
            "staff": staff,
            "admin": issue_staff_token("root", "admin", [], at),
            "integration": issue_integration_token("pos", ["store-a"], at),
            "expired": issue_staff_token("bob", "staff", ["store-a"], at - timedelta(days=2)),
            "signed with another key": tokens.encode(
                {"iss": "storepulse", "aud": "staff", "sub": "eve", "role": "admin"}
                | {"stores": [], "iat": int(at.timestamp()), "exp": int(at.timestamp()) + 3600},
                "another-key",
            ),
        }


@pytest.fixture(scope="module")
def seeded() -> Iterator[Seeded]:
    from chalice.test import Client
    from moto import mock_aws

    from app import app

    with pytest.MonkeyPatch.context() as patch, mock_aws():
        patch.setenv("STOREPULSE_TABLE_NAME", "storepulse-fuzz")
        reset_caches()
        dynamodb_local.create_table(dynamodb_local.client(None), "storepulse-fuzz")
        enforce_key_limits(dynamodb.client())
        stores.put_store(make_store("store-a"))
        stores.put_store(make_store("store-b"))
        with Client(app) as client:
            yield _seed(client)
    reset_caches()


# DynamoDB refuses a key attribute over 2,048 bytes (partition) or 1,024 bytes (sort), or an
# empty one, with a ValidationException; moto does not, so these limits are checked here.
KEY_LIMITS = {"HASH": 2048, "RANGE": 1024}


def enforce_key_limits(client: Any) -> None:
    """Make `client` (on moto) refuse key values DynamoDB would refuse, the way it would."""
    table = client.describe_table(TableName=dynamodb.table_name())["Table"]
    schemas = [table["KeySchema"]] + [
        i["KeySchema"] for i in table.get("GlobalSecondaryIndexes", [])
    ]
    limits = {key["AttributeName"]: KEY_LIMITS[key["KeyType"]] for s in schemas for key in s}

    def size(value: dict[str, Any]) -> int | None:
        if "S" in value:
            return len(value["S"].encode("utf-8", "surrogatepass"))
        return len(value["B"]) if "B" in value else None

    def check(value: dict[str, Any], limit: int, operation: str) -> None:
        length = size(value)
        if length is not None and not 0 < length <= limit:
            raise ClientError(
                {"Error": {"Code": "ValidationException", "Message": f"key size {length}"}},
                operation,
            )

    def walk(node: Any, operation: str) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item, operation)
        elif isinstance(node, dict):
            for name, value in node.items():
                if name in ("Key", "Item") and isinstance(value, dict):
                    for attribute, limit in limits.items():
                        if attribute in value:
                            check(value[attribute], limit, operation)
                walk(value, operation)

    def before(params: dict[str, Any], model: Any, **_: Any) -> None:
        walk(params, model.name)
        condition = params.get("KeyConditionExpression", "")
        for placeholder, value in params.get("ExpressionAttributeValues", {}).items():
            if placeholder in condition:
                check(value, KEY_LIMITS["HASH"], model.name)

    client.meta.events.register("before-parameter-build.dynamodb", before)


def _seed(client: Any) -> Seeded:
    """A kiosk with a pairing code, an unhappy rating with a callback, and its task."""
    at = datetime.now(UTC)
    admin = {"Authorization": f"Bearer {issue_staff_token('root', 'admin', [], at)}"}
    created = client.http.post("/v1/stores/store-a/kiosks", headers=admin, body=b"{}").json_body
    kiosk = {"Authorization": f"Bearer {issue_kiosk_token(created['kiosk_id'], 'store-a', at)}"}
    rating = {
        "rating_id": str(uuid.uuid4()),
        "score": 1,
        "tapped_at": iso(at - timedelta(minutes=1)),
        "callback": {"phone": "+14155550123", "name": "Ana", "consent": True},
    }
    batch = json.dumps({"sent_at": iso(at), "ratings": [rating]})
    stored = client.http.post("/v1/kiosk/ratings", headers=kiosk, body=batch).json_body
    assert stored["results"][0]["status"] == "stored"
    event = client.events.generate_cw_event(
        source="aws.events", detail_type="Scheduled Event", detail={}, resources=[]
    )
    client.lambda_.invoke("aggregate_satisfaction", event)
    tasks = client.http.get("/v1/callbacks?store_id=store-a", headers=admin).json_body["tasks"]
    assert tasks, "the seed rating made no callback task"
    return Seeded(client, created["kiosk_id"], tasks[0]["task_id"], created["pairing_code"])


# --- values -------------------------------------------------------------------------------

# The ends of the calendar (date arithmetic next to them overflows), then odd dates.
CALENDAR_ENDS = [
    "0001-01-01",
    "9999-12-31",
    "0001-01-01T00:00:00Z",
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59Z",
    "9999-12-31T23:59:59-14:00",
]
ODD_DATES = [
    "1969-12-31T23:59:59Z",
    "2099-12-31",
    "2100-01-01",
    "1999-12-31",
    "2026-02-30",
    "0000-00-00",
    "1e20",
    "99999999999",
    "-1",
]
EXTREME_DATES = CALENDAR_ENDS + ODD_DATES
ODD_TEXT = [
    "",
    " ",
    "..",
    ".",
    "%",
    "%00",
    "%2e%2e",
    "%2F",
    "\u202e",
    "\u200b",
    "\x00",
    "a\nb",
    "\ud800",
    "NaN",
    "null",
    "{}",
    "x" * 2100,
    "é" * 1100,
    "😀" * 600,
]
json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.sampled_from([2**63, -(2**63) - 1, 10**400])
    | st.floats()
    | st.text(max_size=30)
    | st.sampled_from(ODD_TEXT + EXTREME_DATES)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)


def weighted(*options: tuple[int, st.SearchStrategy[Any]]) -> st.SearchStrategy[Any]:
    """One of the strategies, each about as often as its weight."""
    return st.sampled_from([s for weight, s in options for _ in range(weight)]).flatmap(
        lambda strategy: strategy
    )


def maybe(valid: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Mostly a valid value, sometimes anything."""
    return weighted((12, valid), (1, json_values))


def near(fields: dict[str, st.SearchStrategy[Any]]) -> st.SearchStrategy[dict[str, Any]]:
    """An object with `fields` (each mostly valid), now and then one missing or one extra."""
    names = sorted(fields)
    return st.builds(
        lambda values, drop, extra: {k: v for k, v in values.items() if k != drop} | extra,
        st.fixed_dictionaries({name: maybe(value) for name, value in fields.items()}),
        weighted((5, st.none()), (1, st.sampled_from(names))),
        weighted(
            (5, st.just({})),
            (1, st.dictionaries(st.sampled_from(["extra", "store_id", "__proto__"]), json_values)),
        ),
    )


def moments() -> st.SearchStrategy[str]:
    around_now = st.integers(min_value=-90 * 86400, max_value=86400).map(
        lambda s: iso(datetime.now(UTC) + timedelta(seconds=s))
    )
    return weighted(
        (3, around_now),
        (2, st.sampled_from([d for d in CALENDAR_ENDS if "T" in d])),
        (1, st.datetimes(timezones=st.none() | st.timezones()).map(lambda d: d.isoformat())),
    )


phones = weighted(
    (3, st.sampled_from(["+14155550123", "+8613812345678", "+447911123456"])),
    (1, st.sampled_from(["+19255554179\n", "+1415555", "4155550123", "+10005550123"])),
    (1, st.text(max_size=20)),
)
customer_text = st.text(max_size=40) | st.sampled_from(ODD_TEXT)
callback = near(
    {
        "phone": phones,
        "name": st.none() | customer_text,
        "consent": weighted((4, st.just(True)), (1, st.booleans())),
    }
)
# Mostly a rating the survey accepts (so that what follows validation runs), now and then not.
rating = near(
    {
        "rating_id": st.uuids().map(str),
        "score": weighted((6, st.integers(1, 5)), (1, st.integers(-1, 11))),
        "tapped_at": moments(),
        "reasons": st.lists(st.sampled_from(["staff", "wait_time", "price", "x"]), max_size=3),
        "comment": st.none() | customer_text,
        "locale": weighted((6, st.sampled_from(["en", "zh-CN"])), (1, st.just("fr"))),
        "expectation": st.sampled_from(["worse", "as_expected", "better"]),
        "callback": weighted((3, st.none()), (1, callback)),
    }
)


def route_bodies(seeded: Seeded) -> dict[tuple[str, str], st.SearchStrategy[Any]]:
    """Near-valid JSON bodies of the routes that read one."""
    store_ids = weighted(
        (4, st.sampled_from(["store-a", "store-b", "store-zz"])), (1, st.sampled_from(ODD_TEXT))
    )
    return {
        ("/v1/kiosks/pair", "POST"): near(
            {"pairing_code": st.sampled_from([seeded.pairing_code, "000000", "12345\n"])}
        ),
        ("/v1/kiosk/ratings", "POST"): near(
            {"sent_at": moments(), "ratings": st.lists(maybe(rating), min_size=1, max_size=4)}
        ),
        ("/v1/stores/{store_id}/kiosks", "POST"): near({"label": st.none() | customer_text}),
        ("/v1/surveys/invitations", "POST"): near(
            {
                "phone": phones,
                "store_id": store_ids,
                "visit_ref": st.none() | customer_text,
                "locale": st.none() | st.sampled_from(["en", "zh-CN", "fr"]),
            }
        ),
        ("/v1/callbacks/{task_id}/resolve", "POST"): near(
            {
                "outcome": st.sampled_from(["resolved", "unreachable", "declined"]),
                "note": customer_text,
                "recovered_score": st.none() | st.integers(min_value=-1, max_value=11),
            }
        ),
    }


twilio_forms = st.fixed_dictionaries(
    {},
    optional={
        "MessageSid": weighted((3, st.uuids().map(lambda u: f"SM{u.hex}")), (1, st.text())),
        "From": phones,
        "To": st.just("+15005550006"),
        "Body": customer_text,
        "NumMedia": st.sampled_from(["0", "1", "x"]),
    },
).map(  # a form is UTF-8 text: a lone surrogate cannot be sent (not UTF-8: the bytes test)
    lambda form: {k: v.encode("utf-8", "replace").decode() for k, v in form.items()}
)


# --- requests -----------------------------------------------------------------------------

# Header values: API Gateway only delivers what an HTTP request line can carry, so no CR, LF
# or NUL (chalice's test client would pass them on, a real client cannot send them).
header_text = st.text(
    alphabet=st.characters(exclude_characters="\r\n\x00", exclude_categories=("Cs",)),
    max_size=60,
)
content_types = (
    st.sampled_from(
        [
            "application/json",
            "application/json; charset=utf-8",
            "application/x-www-form-urlencoded",
            "text/plain",
            "application/octet-stream",
            "multipart/form-data; boundary=x",
            "",
        ]
    )
    | header_text
)


def spliced(token: str, junk: str, at: int) -> str:
    """A valid token with `junk` inside it (its header, payload or signature)."""
    at = at % (len(token) + 1)
    return f"{token[:at]}{junk}{token[at:]}"


def authorizations(seeded: Seeded) -> st.SearchStrategy[str | None]:
    """Any Authorization header: credentials of every audience, broken or spliced ones."""
    valid = st.sampled_from(sorted(seeded.credentials.values()))
    return weighted(
        (2, valid.map(lambda token: f"Bearer {token}")),
        (2, st.builds(spliced, valid, header_text, st.integers(0, 400)).map("Bearer {}".format)),
        (1, st.none()),
        (1, header_text.map("Bearer {}".format)),
        (1, st.sampled_from(["Bearer tø.k.en", "Bearer a.b.ø", "bearer  ", "Basic YTpi"])),
        (1, header_text),
    )


# Past DynamoDB's key limits (2,048 bytes for a partition key, 1,024 for a sort key).
long_ids = st.builds(
    lambda char, length: char * length,
    st.sampled_from(["x", "é", "😀", "-"]),
    st.integers(min_value=200, max_value=2500),
)


def known_ids(seeded: Seeded, name: str) -> st.SearchStrategy[str]:
    """Ids that exist (or plainly do not) for a path parameter."""
    known = {
        "store_id": ["store-a", "store-a", "store-b", "store-zz"],
        "kiosk_id": [seeded.kiosk_id, seeded.kiosk_id, "k-000000000000"],
        "task_id": [seeded.task_id, seeded.task_id, str(uuid.uuid4())],
    }.get(name, ["x"])
    return st.sampled_from(known)


def path_values(seeded: Seeded, name: str) -> st.SearchStrategy[str]:
    """Anything for a path parameter: odd, unicode, %-escaped, `..`, too long."""
    return weighted(
        (1, known_ids(seeded, name)),
        (2, st.text(min_size=1, max_size=40)),
        (1, st.sampled_from([v for v in ODD_TEXT if v])),
        (2, long_ids),
    )


def segment(value: str) -> str:
    """`value` as one path segment: what would end the segment (or be dropped from a URL) is
    %-escaped. API Gateway would decode it into the parameter; chalice's test gateway passes
    it on as is, which is just another string for the app. A lone surrogate cannot be in a
    URL at all: its UTF-8-like bytes are %-escaped like the rest. No segment holds a `/`, so
    every path matches its route (chalice's test gateway cannot answer an unmatched path with
    a non-ASCII Authorization header; API Gateway answers those itself)."""
    raw = value.encode("utf-8", "surrogatepass")
    return quote(raw, safe="".join(c for c in map(chr, range(32, 127)) if c not in "/?#%\\ "))


# The query parameters some route reads, with values mostly of their kind; any value can
# go with any key, and unknown keys come too.
anything = weighted((1, st.sampled_from(ODD_TEXT)), (1, st.text(max_size=20)))
dates = weighted(
    (3, st.sampled_from(CALENDAR_ENDS)), (1, st.sampled_from(ODD_DATES)), (1, moments())
)
ids = weighted((3, st.sampled_from(["store-a", "store-b", "store-zz"])), (1, long_ids))
QUERY = {
    "from": dates,
    "to": dates,
    "granularity": st.sampled_from(["hour", "day", "week"]),
    "status": st.sampled_from(["open", "claimed", "resolved"]),
    "store_id": ids,
    "store_ids": st.lists(ids, min_size=1, max_size=3).map(",".join),
}
query_pair = weighted(
    *[
        (
            4 if key in ("from", "to") else 2,
            st.tuples(st.just(key), weighted((4, value), (1, anything))),
        )
        for key, value in QUERY.items()
    ],
    (1, st.tuples(st.text(min_size=1, max_size=10), anything)),
)
queries = st.lists(query_pair, min_size=1, max_size=2, unique_by=lambda pair: pair[0]).map(
    lambda pairs: urlencode([(k, v.encode("utf-8", "surrogatepass")) for k, v in pairs])
)


def fitting_credentials(seeded: Seeded, template: str, method: str) -> list[str]:
    """The credentials this route does not answer 401 to (found by asking it, so a new
    route needs nothing here): fuzzing with them reaches past authentication."""
    path = template
    for name in [part[1:-1] for part in template.split("/") if part.startswith("{")]:
        path = path.replace(f"{{{name}}}", "store-a" if name == "store_id" else "x")
    fitting = []
    for token in seeded.credentials.values():
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        if seeded.client.http.request(method, path, headers=headers, body=b"{}").status_code != 401:
            fitting.append(token)
    return fitting


# What a request gets wrong: one part of an otherwise valid request (so the deep code is
# reached with it), or everything at once.
FOCI = ["path", "query", "authorization", "headers", "body", "everything"]


@st.composite
def requests(
    draw: st.DrawFn, seeded: Seeded, template: str, method: str, fitting: list[str], focus: str
) -> dict[str, Any]:
    def hostile(part: str) -> bool:
        return focus in (part, "everything")

    path = template
    for name in [part[1:-1] for part in template.split("/") if part.startswith("{")]:
        value = draw(path_values(seeded, name) if hostile("path") else known_ids(seeded, name))
        path = path.replace(f"{{{name}}}", segment(value))
    query = draw(queries) if hostile("query") else ""
    if query:
        path = f"{path}?{query}"

    headers: dict[str, str] = {}
    if hostile("authorization") or not fitting:
        authorization = draw(authorizations(seeded))
    else:
        authorization = f"Bearer {draw(st.sampled_from(fitting))}"
    if authorization is not None:
        headers["Authorization"] = authorization
    is_twilio = template == "/v1/sms/twilio"
    content_type = "application/x-www-form-urlencoded" if is_twilio else "application/json"
    if hostile("headers"):
        content_type = draw(weighted((1, st.just(content_type)), (2, content_types)))
        if draw(st.booleans()):
            headers["X-Correlation-Id"] = draw(header_text)
    if content_type or draw(st.booleans()):
        headers["Content-Type"] = content_type

    kind = (
        draw(st.sampled_from(["route", "json", "bytes", "empty"])) if hostile("body") else "route"
    )
    specific = route_bodies(seeded).get((template, method))
    if kind == "route" and is_twilio:
        form = draw(twilio_forms)
        body = urlencode(form).encode()
        signature = (
            draw(st.sampled_from(["valid", "random", "none"])) if hostile("headers") else "valid"
        )
        if signature == "valid":
            headers["X-Twilio-Signature"] = twilio_signature(WEBHOOK, form, TWILIO_TOKEN)
        elif signature == "random":
            headers["X-Twilio-Signature"] = draw(header_text)
    elif kind == "route" and specific is not None:
        ensure_ascii = draw(st.booleans())
        body = json.dumps(draw(specific), ensure_ascii=ensure_ascii).encode(
            "utf-8", "surrogatepass"
        )
    elif kind == "route":
        body = b"{}" if method == "POST" else b""
    elif kind == "json":
        body = json.dumps(draw(json_values)).encode()
    elif kind == "bytes":
        body = draw(st.binary(max_size=200))
    else:
        body = b""
    return {"method": method, "path": path, "headers": headers, "body": body}


# --- the property -------------------------------------------------------------------------


def assert_well_answered(request: dict[str, Any], response: Any) -> None:
    status, headers = response.status_code, response.headers
    shown = {**request, "body": request["body"][:300], "status": status}
    if status >= 500:
        assert status == 503, f"server error for {shown}: {response.body[:300]!r}"
        assert headers.get("Retry-After"), f"503 without Retry-After for {shown}"
    if status >= 400:
        try:
            body = json.loads(response.body)
        except ValueError:
            pytest.fail(f"{status} with a body that is not JSON for {shown}: {response.body!r}")
        assert isinstance(body, dict), shown
        assert set(body) == {"error"}, f"not the error shape for {shown}: {body}"
        error = body["error"]
        assert isinstance(error, dict), shown
        assert set(error) == {"code", "message", "details"}, f"not the error shape: {body}"
        assert isinstance(error["code"], str), shown
        assert isinstance(error["message"], str), shown
        assert isinstance(error["details"], list), shown
    for name, value in headers.items():  # API Gateway cannot answer with anything else
        assert isinstance(value, str), (name, value, shown)
        assert value.isascii(), f"header {name}={value!r} for {shown}"
        assert value.isprintable(), f"header {name}={value!r} for {shown}"


def send(seeded: Seeded, request: dict[str, Any]) -> Any:
    return seeded.client.http.request(
        request["method"], request["path"], headers=request["headers"], body=request["body"]
    )


def _routes() -> list[tuple[str, str]]:
    from app import app

    return [(path, method) for path, methods in app.routes.items() for method in methods]


ROUTES = _routes()
ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"]


EXAMPLES = int(HUNT) if HUNT else max(5, BUDGET // (len(ROUTES) * len(FOCI)))


@pytest.mark.parametrize("focus", FOCI)
@pytest.mark.parametrize(("template", "method"), ROUTES, ids=[f"{m} {p}" for p, m in ROUTES])
def test_no_request_to_a_route_is_a_server_error(seeded, template, method, focus):
    fitting = fitting_credentials(seeded, template, method)

    @settings(FUZZ, max_examples=EXAMPLES)
    @given(data=st.data())
    def fuzz(data: st.DataObject) -> None:
        request = data.draw(requests(seeded, template, method, fitting, focus), label="request")
        assert_well_answered(request, send(seeded, request))

    fuzz()


TEMPLATES = sorted({template for template, _ in ROUTES})


@pytest.mark.parametrize("template", TEMPLATES)
def test_no_method_a_route_lacks_is_a_server_error(seeded, template):
    from app import app

    others = [m for m in ALL_METHODS if m not in app.routes[template]]

    @settings(FUZZ, max_examples=8)
    @given(data=st.data())
    def fuzz(data: st.DataObject) -> None:
        method = data.draw(st.sampled_from(others), label="method")
        request = data.draw(requests(seeded, template, method, [], "everything"), label="request")
        response = send(seeded, request)
        assert_well_answered(request, response)
        # 400 when a path id is too long: ids are checked before the method.
        assert response.status_code in (400, 405)

    fuzz()
