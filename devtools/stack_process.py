"""Start and stop `make run`'s stack from tests and benchmarks, on free ports and a private
.local folder."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from devtools import dynamodb_local

ROOT = Path(__file__).resolve().parents[1]  # the repository


class LocalStack:
    def __init__(
        self,
        local_dir: Path,
        ports: dict[str, int] | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        """`env`: extra settings of the stack's process (e.g. `SCHEDULER_INTERVAL_S`)."""
        self.local_dir = local_dir
        self.extra_env = env or {}
        self.ports = ports or {
            name: dynamodb_local.free_port() for name in ("api", "pages", "dynamodb")
        }
        self.process: subprocess.Popen[bytes] | None = None
        self.demo: dict[str, Any] = {}

    def start(self, timeout: float = 90) -> dict[str, Any]:
        demo_file = self.local_dir / "demo.json"
        demo_file.unlink(missing_ok=True)
        env = self._env()
        log = (self.local_dir / "stack.log").open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "devtools.local_stack"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while not demo_file.exists():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.process.kill()
                output = (self.local_dir / "stack.log").read_text()[-3000:]
                raise RuntimeError(f"the local stack did not start:\n{output}")
            time.sleep(0.3)
        self.demo = json.loads(demo_file.read_text())
        return self.demo

    def run_to_exit(self) -> subprocess.CompletedProcess[str]:
        """Run the stack in the foreground until it exits by itself (e.g. a port is taken)."""
        self.local_dir.mkdir(parents=True, exist_ok=True)
        return subprocess.run(
            [sys.executable, "-m", "devtools.local_stack"],
            cwd=ROOT,
            env=self._env(),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    def _env(self) -> dict[str, str]:
        env = os.environ | {
            "STOREPULSE_LOCAL_DIR": str(self.local_dir),
            "PORT": str(self.ports["api"]),
            "PAGES_PORT": str(self.ports["pages"]),
            "DDB_PORT": str(self.ports["dynamodb"]),
            **self.extra_env,
        }
        for key in ("STOREPULSE_DYNAMODB_ENDPOINT", "STOREPULSE_TABLE_NAME"):
            env.pop(key, None)
        return env

    def stop(self) -> int:
        if self.process is None:
            return 0
        self.process.send_signal(signal.SIGINT)  # what Ctrl-C sends
        return self.process.wait(timeout=30)

    def crash(self, timeout: float = 30) -> int:
        """SIGKILL the API and DynamoDB Local, as a power cut or the OOM killer would: no
        clean shutdown, no flush. The stack's own process sees a component gone and exits
        (its exit code is returned); `start()` again runs both on the same ports and data."""
        for name in ("api_pid", "dynamodb_pid"):
            with contextlib.suppress(ProcessLookupError):  # gone already
                os.kill(int(self.demo[name]), signal.SIGKILL)
        assert self.process is not None
        return self.process.wait(timeout=timeout)

    def rating_item(self, rating_id: str) -> dict[str, Any] | None:
        from chalicelib.storage.ratings import stored_rating

        ddb = dynamodb_local.client(self.demo["dynamodb_endpoint"])
        return stored_rating(rating_id, ddb=ddb, table=self.demo["table_name"])

    def ratings_of_kiosk(self, kiosk_id: str) -> list[dict[str, Any]]:
        """Every rating a kiosk stored (a scan: test-only)."""
        ddb = dynamodb_local.client(self.demo["dynamodb_endpoint"])
        from boto3.dynamodb.types import TypeDeserializer

        items: list[dict[str, Any]] = []
        request: dict[str, Any] = {
            "TableName": self.demo["table_name"],
            "FilterExpression": "source_id = :k",
            "ExpressionAttributeValues": {":k": {"S": kiosk_id}},
        }
        while True:
            response = ddb.scan(**request)
            items += [
                {k: TypeDeserializer().deserialize(v) for k, v in item.items()}
                for item in response["Items"]
            ]
            if "LastEvaluatedKey" not in response:
                return items
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]
