"""devtools/onboard.py (`make onboard`): the file sent in parts, each row's result printed
by its line with a summary and the exit status; 429/503 sent again; a part that cannot be
sent reported row by row; the admin signed in through Cognito (moto's server)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest

from chalicelib.domain.onboarding import COLUMNS, Chunk
from devtools import onboard
from tests.cognito import LocalPool, cognito_client

pytestmark = pytest.mark.unit

HEADER = ",".join(COLUMNS)


def csv_of(*store_ids: str) -> str:
    rows = [f"{s},Store {s},UTC,US,west,,clerk@{s}.example.com," for s in store_ids]
    return "\r\n".join([HEADER, *rows]) + "\r\n"


def answering(statuses: dict[str, str]) -> Any:
    """A stand-in API: each row's status by store id ("created" unless told); records parts."""
    sent: list[Chunk] = []

    def post(chunk: Chunk) -> dict[str, Any]:
        sent.append(chunk)
        lines = chunk.csv.split("\r\n")[1:-1]
        rows = [
            {
                "line": chunk.first_line + index,
                "store_id": line.split(",")[0],
                "status": statuses.get(line.split(",")[0], "created"),
                "staff": [{"email": line.split(",")[6], "status": "invited"}],
            }
            for index, line in enumerate(lines)
        ]
        return {"rows": rows}

    post.sent = sent  # type: ignore[attr-defined]
    return post


def test_every_row_is_printed_by_its_line_with_a_summary():
    printed: list[str] = []

    status = onboard.onboard_file(csv_of("s-1", "s-2"), answering({}), printed.append)

    assert status == 0
    assert printed[0].startswith("line      2  s-1")
    assert "created  (1 invited)" in printed[0]
    assert printed[-1] == (
        "2 rows: 2 stores created, 0 already there, 0 failed; 2 people invited, 0 already there"
    )


def test_a_failed_row_makes_the_exit_status_1_and_is_named_in_the_summary():
    printed: list[str] = []
    text = csv_of("s-1", "s-2", "s-3", "s-1")

    status = onboard.onboard_file(text, answering({"s-2": "exists"}), printed.append)

    assert status == 1
    assert "line      5  s-1" in printed[3]
    assert "error: store_id s-1 is also on line 2" in printed[3]
    assert printed[-1].startswith("4 rows: 2 stores created, 1 already there, 1 failed (lines 5)")


def test_the_file_goes_in_parts_numbered_as_the_file():
    post = answering({})
    text = csv_of(*(f"s-{n}" for n in range(60)))  # one e-mail a row: 50 a part

    onboard.onboard_file(text, post, lambda line: None)

    assert [(chunk.first_line, chunk.rows) for chunk in post.sent] == [(2, 50), (52, 10)]


def test_a_wrong_header_sends_nothing_and_exits_2():
    printed: list[str] = []
    post = answering({})

    status = onboard.onboard_file("store_id,name\r\ns-1,Shop\r\n", post, printed.append)

    assert status == 2
    assert post.sent == []
    assert "the header has no column timezone" in printed[0]


def test_a_part_the_api_refused_is_reported_row_by_row_and_the_next_part_goes_in():
    calls = []

    def post(chunk: Chunk) -> dict[str, Any]:
        calls.append(chunk.first_line)
        if chunk.first_line == 2:
            raise onboard.Refused("503: storage is busy; retry later")
        return answering({})(chunk)

    printed: list[str] = []
    status = onboard.onboard_file(csv_of(*(f"s-{n}" for n in range(55))), post, printed.append)

    assert status == 1
    assert calls == [2, 52]
    assert "error: not sent: 503: storage is busy" in printed[0]
    assert printed[-1].startswith("55 rows: 5 stores created, 0 already there, 50 failed")


class _Api(BaseHTTPRequestHandler):
    answers: ClassVar[list[tuple[int, dict[str, Any]]]] = []
    seen: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.seen.append({"path": self.path, "auth": self.headers["Authorization"], **body})
        status, answer = self.answers.pop(0)
        payload = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Retry-After", "0")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def api() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Api)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _Api.answers, _Api.seen = [], []
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_the_poster_sends_a_part_again_after_a_503_and_says_what_a_400_said(api):
    busy = {"error": {"code": "unavailable", "message": "busy", "details": []}}
    _Api.answers = [(503, busy), (200, {"rows": []})]
    post = onboard.http_poster(api, "tok")
    chunk = Chunk(first_line=7, csv="x", rows=1)

    assert post(chunk) == {"rows": []}
    assert [seen["first_line"] for seen in _Api.seen] == [7, 7]
    assert _Api.seen[0]["path"] == "/v1/onboarding"
    assert _Api.seen[0]["auth"] == "Bearer tok"

    bad = {"error": {"code": "bad_request", "message": "the header has no column x"}}
    _Api.answers = [(400, bad)]
    with pytest.raises(onboard.Refused, match="400: the header has no column x"):
        post(chunk)


def test_an_unreachable_api_is_refused_not_a_trace():
    post = onboard.http_poster("http://127.0.0.1:9", "tok")

    with pytest.raises(onboard.Refused, match="cannot be reached"):
        post(Chunk(first_line=2, csv="x", rows=1))


def test_the_admin_signs_in_through_cognito():
    pool = LocalPool.create()
    password = pool.add_user("root@example.com", ["admin"])

    token = onboard.sign_in(pool.endpoint, pool.client_id, "root@example.com", password)

    assert token.count(".") == 2
    with pytest.raises(SystemExit, match="sign-in refused"):
        onboard.sign_in(pool.endpoint, pool.client_id, "root@example.com", "wrong-Pw-1")


def test_a_first_sign_in_sends_the_admin_to_the_staff_page():
    pool = LocalPool.create()
    cognito_client(pool.endpoint).admin_create_user(
        UserPoolId=pool.pool_id,
        Username="new@example.com",
        TemporaryPassword="Temp-Pw-12345",
        MessageAction="SUPPRESS",
    )

    with pytest.raises(SystemExit, match="NEW_PASSWORD_REQUIRED: sign in on the staff page"):
        onboard.sign_in(pool.endpoint, pool.client_id, "new@example.com", "Temp-Pw-12345")


def test_by_default_the_local_stacks_admin(tmp_path, monkeypatch):
    (tmp_path / "demo.json").write_text(
        json.dumps({"api_url": "http://127.0.0.1:8000", "admin_token": "local-admin"})
    )
    monkeypatch.setattr(onboard, "LOCAL", tmp_path)
    args = onboard.argparse.Namespace(
        api=None,
        stack=None,
        region=None,
        email=None,
        password=None,
        client_id=None,
        cognito_endpoint=None,
        token=None,
    )

    assert onboard.credentials(args) == ("http://127.0.0.1:8000", "local-admin")
    args.token = "given"
    assert onboard.credentials(args) == ("http://127.0.0.1:8000", "given")
