"""A fault-injecting HTTP proxy in front of DynamoDB Local, for the fault tests.

It forwards every request to DynamoDB Local and, per operation (the `X-Amz-Target` header:
`DynamoDB_20120810.PutItem` -> `PutItem`) and with a probability, answers with one of the
failures DynamoDB really gives instead:

  throttle        400 ProvisionedThroughputExceededException, nothing done
  throttling      400 ThrottlingException (the generic AWS throttle), nothing done
  error_500       500 InternalServerError, nothing done
  internal        500 InternalFailure (the generic AWS one), nothing done
  unavailable     503 ServiceUnavailable, nothing done
  after_500       the request is done, then 500 InternalServerError: the caller cannot know
  drop            the connection closes without an answer, nothing done
  after_drop      the request is done, then the connection closes without an answer
  stall           the answer comes `stall_s` late (beyond the client's read timeout)

Faults are switched at run time, in process (`proxy.set_faults(...)`) or by another process
through the proxy itself: `POST /__faults` with `{"faults": [{"mode", "probability",
"operations"?}], "seed"?}` (an empty list turns them off); `GET /__faults` answers what was
injected so far, per mode and operation. A seed makes a run repeatable.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import random
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

_DYNAMODB = "com.amazonaws.dynamodb.v20120810#"
# mode -> (status, __type, message): the bodies DynamoDB and the AWS front end send.
ANSWERS = {
    "throttle": (
        400,
        _DYNAMODB + "ProvisionedThroughputExceededException",
        "The level of configured provisioned throughput for the table was exceeded.",
    ),
    "throttling": (400, "com.amazon.coral.availability#ThrottlingException", "Rate exceeded"),
    "error_500": (500, _DYNAMODB + "InternalServerError", "Internal server error"),
    "internal": (500, "com.amazon.coral.service#InternalFailure", "Internal failure"),
    "unavailable": (503, "com.amazon.coral.availability#ServiceUnavailable", "Service unavailable"),
    "after_500": (500, _DYNAMODB + "InternalServerError", "Internal server error"),
}
MODES = (*ANSWERS, "drop", "after_drop", "stall")
AFTER_THE_WRITE = {"after_500", "after_drop"}


@dataclass(frozen=True)
class Fault:
    mode: str
    probability: float
    operations: frozenset[str] = frozenset()  # empty: every operation

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"unknown fault mode {self.mode!r}; one of {', '.join(MODES)}")
        if not 0 <= self.probability <= 1:
            raise ValueError("probability is between 0 and 1")

    def applies_to(self, operation: str) -> bool:
        return not self.operations or operation in self.operations

    @classmethod
    def parse(cls, raw: dict[str, Any]) -> Fault:
        return cls(raw["mode"], float(raw["probability"]), frozenset(raw.get("operations") or ()))


@dataclass
class FaultPlan:
    faults: list[Fault] = field(default_factory=list)
    stall_s: float = 6.0
    rng: random.Random = field(default_factory=random.Random)
    injected: Counter[tuple[str, str]] = field(default_factory=Counter)
    forwarded: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def choose(self, operation: str) -> str | None:
        """The fault for this request, if one is drawn (the first matching fault that fires)."""
        with self.lock:
            for fault in self.faults:
                if fault.applies_to(operation) and self.rng.random() < fault.probability:
                    self.injected[(fault.mode, operation)] += 1
                    return fault.mode
            return None

    def report(self) -> dict[str, Any]:
        with self.lock:
            return {
                "injected": [
                    {"mode": mode, "operation": operation, "count": count}
                    for (mode, operation), count in sorted(self.injected.items())
                ],
                "forwarded": dict(sorted(self.forwarded.items())),
            }


class FaultProxy:
    """The proxy, serving on loopback in a thread of this process."""

    def __init__(self, upstream: str, port: int = 0, stall_s: float = 6.0) -> None:
        target = urlsplit(upstream)
        self.upstream = (target.hostname or "127.0.0.1", target.port or 80)
        self.plan = FaultPlan(stall_s=stall_s)
        self.server = ThreadingHTTPServer(("127.0.0.1", port), _handler(self))
        self.server.daemon_threads = True
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        # Idle upstream connections, kept alive (list.append and pop are atomic).
        self._idle: list[http.client.HTTPConnection] = []
        self.upstream_connections = 0  # opened so far

    def start(self) -> FaultProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        while self._idle:
            self._idle.pop().close()

    def set_faults(self, faults: list[Fault], seed: int | None = None) -> None:
        with self.plan.lock:
            self.plan.faults = list(faults)
            if seed is not None:
                self.plan.rng.seed(seed)

    def clear(self) -> None:
        self.set_faults([])

    def forward(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Any:
        """The upstream's answer, on a kept-alive connection of the pool (a new one for
        each request cost a connection set-up per DynamoDB call). A pooled connection the
        upstream closed meanwhile fails before its request is read: that request is sent
        once more, on a new connection."""
        for reused in (True, False):
            connection = self._idle.pop() if reused and self._idle else None
            if connection is None:
                reused = False
                connection = http.client.HTTPConnection(*self.upstream, timeout=30)
                self.upstream_connections += 1
            try:
                connection.request(method, path, body=body, headers=headers)
                answer = connection.getresponse()
                result = answer.status, answer.getheaders(), answer.read()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                connection.close()
                if reused:
                    continue
                raise
            except BaseException:
                connection.close()
                raise
            if answer.will_close:
                connection.close()
            else:
                self._idle.append(connection)
            return result
        raise AssertionError("unreachable: the second round uses a new connection")


def _handler(proxy: FaultProxy) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # botocore keeps connections alive
        # An answer is written in two parts (headers, body): with Nagle's algorithm on, the
        # second waited for the client's delayed ACK of the first, ~40 ms a call.
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            if self.path == "/__faults":
                self._answer(
                    200, [("Content-Type", "application/json")], _json(proxy.plan.report())
                )
            else:
                self._relay(b"")

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if self.path == "/__faults":
                self._control(body)
            else:
                self._relay(body)

        def _control(self, body: bytes) -> None:
            try:
                raw = json.loads(body or b"{}")
                faults = [Fault.parse(fault) for fault in raw.get("faults", [])]
            except (ValueError, KeyError, TypeError) as error:
                self._answer(400, [("Content-Type", "text/plain")], str(error).encode())
                return
            proxy.set_faults(faults, raw.get("seed"))
            self._answer(204, [], b"")

        def _relay(self, body: bytes) -> None:
            operation = self.headers.get("X-Amz-Target", "").rpartition(".")[2] or "-"
            mode = proxy.plan.choose(operation)
            if mode == "drop":
                self._drop()
                return
            if mode in ANSWERS and mode not in AFTER_THE_WRITE:
                self._fail(mode)
                return
            if mode == "stall":
                time.sleep(proxy.plan.stall_s)
            headers = {
                name: value for name, value in self.headers.items() if name.lower() != "host"
            }
            try:
                status, answer_headers, answer = proxy.forward(
                    self.command, self.path, headers, body
                )
            except OSError:
                self._drop()  # DynamoDB Local is down: the caller sees a dropped connection
                return
            with proxy.plan.lock:
                proxy.plan.forwarded[operation] += 1
            if mode == "after_drop":
                self._drop()
            elif mode == "after_500":
                self._fail(mode)
            else:
                kept = [
                    (name, value)
                    for name, value in answer_headers
                    if name.lower() not in {"content-length", "connection", "transfer-encoding"}
                ]
                self._answer(status, kept, answer)

        def _fail(self, mode: str) -> None:
            status, kind, message = ANSWERS[mode]
            error = _json({"__type": kind, "message": message})
            self._answer(status, [("Content-Type", "application/x-amz-json-1.0")], error)

        def _answer(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
            self.send_response(status)
            for name, value in headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _drop(self) -> None:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)

    return Handler


def _json(value: Any) -> bytes:
    return json.dumps(value).encode()
