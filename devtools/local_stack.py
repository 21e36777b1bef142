"""`make run`: the whole system on this machine.

DynamoDB Local (data kept in .local/dynamodb), moto's server as Amazon Cognito and SNS (the
user pool and demo people: devtools/local_identity.py), the Chalice API (`chalice local`),
the static kiosk and staff pages, demo stores and a paired demo kiosk; writes
.local/demo.json for scripts and tests. Ctrl-C stops everything.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from devtools import dynamodb_local, local_identity, pages, stream_poller

ROOT = dynamodb_local.ROOT
LOCAL = Path(os.environ.get("STOREPULSE_LOCAL_DIR", ROOT / ".local"))
FUNCTIONS = ROOT / "functions"
TABLE_NAME = "storepulse-local"
DEMO_STORE = "demo-store"
DEMO_REGION = "west"  # both demo stores; the demo manager's region
# Who signs in on the local staff page (passwords: .local/secrets.json, made once).
DEMO_PEOPLE = (
    local_identity.Person("staff", "staff@example.com", (f"store:{DEMO_STORE}",)),
    local_identity.Person("manager", "manager@example.com", (f"manager:{DEMO_REGION}",)),
    local_identity.Person("admin", "admin@example.com", ("admin",)),
)


def local_env(
    endpoint: str,
    keys: dict[str, str],
    api_url: str,
    pages_url: str | None = None,
    identity: local_identity.LocalIdentity | None = None,
) -> dict[str, str]:
    """The configuration that makes the app local: only endpoints, names and secrets differ
    (and the HS256 staff tokens, which only the local stack and tests accept)."""
    env = {
        **dynamodb_local.LOCAL_CREDENTIALS,
        "AWS_DEFAULT_REGION": "us-east-1",
        "STOREPULSE_TABLE_NAME": TABLE_NAME,
        "STOREPULSE_DYNAMODB_ENDPOINT": endpoint,
        "STOREPULSE_SECRETS_BACKEND": "env",
        "STOREPULSE_SECRET_STOREPULSE_TOKEN_SIGNING_KEY": keys["token_signing_key"],
        "STOREPULSE_SECRET_STOREPULSE_PHONE_HMAC_KEY": keys["phone_hmac_key"],
        "STOREPULSE_SECRET_STOREPULSE_TWILIO_AUTH_TOKEN": keys["twilio_auth_token"],
        "STOREPULSE_TWILIO_WEBHOOK_URL": f"{api_url}/v1/sms/twilio",
        "STOREPULSE_SMS_PROVIDER": "outbox",
        "STOREPULSE_NOTIFICATIONS_LOG": str(LOCAL / "notifications.jsonl"),
        "STOREPULSE_REVOCATION_CACHE_S": "5",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_DISABLED": "true",
        "STOREPULSE_ACCEPT_LOCAL_STAFF_TOKENS": "true",
        # No e-mail leaves this machine: an invitation's temporary password goes to the
        # notifications log (and the console).
        "STOREPULSE_STAFF_INVITE_DELIVERY": "outbox",
    }
    if identity is not None:
        env |= identity.env()
    if pages_url:
        # Links in notifications open the task on the local staff page (which learns the
        # API address from the pages server's /config.json, never from the link).
        env["STOREPULSE_STAFF_URL"] = f"{pages_url}/staff/"
    return env


def local_keys() -> dict[str, str]:
    """Local secrets, made once and kept in .local so demo tokens survive a restart."""
    path = LOCAL / "secrets.json"
    keys = json.loads(path.read_text()) if path.exists() else {}
    for name in ("token_signing_key", "phone_hmac_key", "twilio_auth_token"):
        keys.setdefault(name, secrets.token_urlsafe(32))
    for person in DEMO_PEOPLE:  # the demo people's passwords (the pool's policy accepts them)
        keys.setdefault(f"{person.role}_password", f"Pw-{secrets.token_urlsafe(12)}1a")
    path.write_text(json.dumps(keys))
    path.chmod(0o600)
    return keys


class NotificationEcho(threading.Thread):
    """Prints to this console every message the stack would have published (SNS, SMS,
    chat), as it is appended to the notifications log."""

    def __init__(self, path: Path) -> None:
        super().__init__(daemon=True)
        self.path = path
        self.stopped = threading.Event()

    def run(self) -> None:
        seen = self.path.stat().st_size if self.path.exists() else 0
        while not self.stopped.wait(1):
            if not self.path.exists() or self.path.stat().st_size <= seen:
                continue
            with self.path.open(encoding="utf-8") as log:
                log.seek(seen)
                for line in log:
                    entry = json.loads(line)
                    attributes = " ".join(f"{k}={v}" for k, v in entry["attributes"].items())
                    topic = entry["topic"].rsplit(":", 1)[-1]  # an ARN's name
                    print(f"\n[{topic}] {attributes}\n{entry['message']}\n", flush=True)
                seen = log.tell()


class Scheduler(threading.Thread):
    """What EventBridge does in AWS: invokes the app's scheduled functions every `interval`
    seconds, through Chalice's own Lambda test harness."""

    def __init__(self, interval: float) -> None:
        super().__init__(daemon=True)
        self.interval = interval
        self.stopped = threading.Event()

    def run(self) -> None:
        from chalice.app import CloudWatchEvent
        from chalice.test import Client

        from app import app

        scheduled = [
            name
            for name, handler in app.handler_map.items()
            if getattr(handler, "event_class", None) is CloudWatchEvent
        ]
        with Client(app) as client:
            while not self.stopped.wait(self.interval):
                event = client.events.generate_cw_event(
                    source="aws.events", detail_type="Scheduled Event", detail={}, resources=[]
                )
                for name in scheduled:
                    try:
                        client.lambda_.invoke(name, event)
                    except Exception as error:
                        print(f"scheduled {name} failed: {error}", file=sys.stderr)


def seed() -> dict[str, Any]:
    """Demo stores, a paired demo kiosk and demo credentials (idempotent)."""
    sys.path.insert(0, str(FUNCTIONS))
    from chalicelib.auth import issue_integration_token, issue_kiosk_token, issue_staff_token
    from chalicelib.domain.kiosks import Kiosk
    from chalicelib.domain.survey import DEFAULT_SURVEY, Store

    # The demo asks the expectation question, so the local stack shows every step.
    survey = DEFAULT_SURVEY.model_copy(update={"ask_expectation": True})
    from chalicelib.storage import stores

    now = datetime.now(UTC)
    demo = Store(
        store_id=DEMO_STORE,
        name="Demo Store Downtown",
        timezone="America/Los_Angeles",
        country="US",
        region=DEMO_REGION,
        survey=survey,
        sms_window=(0, 24),  # the demo sends at any hour; real stores keep quiet hours
    )
    other = Store(
        store_id="demo-store-2",
        name="Demo Store Uptown",
        timezone="Asia/Shanghai",
        country="CN",
        region=DEMO_REGION,
        survey=survey,
    )
    for store in (demo, other):
        stores.put_store(store)
    kiosk = stores.get_kiosk(demo.store_id, "k-demo-kiosk")
    if kiosk is None or kiosk.status != "paired":
        stores.put_kiosk(
            Kiosk(
                kiosk_id="k-demo-kiosk",
                store_id=demo.store_id,
                status="paired",
                label="Demo kiosk by the door",
                created_at=now,
                paired_at=now,
            )
        )
    month = timedelta(days=30)
    return {
        "store_id": demo.store_id,
        "kiosk_id": "k-demo-kiosk",
        "kiosk_token": issue_kiosk_token("k-demo-kiosk", demo.store_id, now),
        "staff_token": issue_staff_token("demo-staff", "staff", [demo.store_id], now, month),
        "admin_token": issue_staff_token("demo-admin", "admin", [], now, month),
        "other_store_id": other.store_id,
        "other_staff_token": issue_staff_token(
            "demo-staff-2", "staff", [other.store_id], now, month
        ),
        "integration_token": issue_integration_token("demo-pos", [demo.store_id], now, month),
    }


class StaticPages(SimpleHTTPRequestHandler):
    """Serves only what devtools/pages.py names: the page folders and `common/`, typed as the
    bucket types them, `/config.json` (the API address and the staff page's sign-in) and the
    kiosk's `files.json` (what its service worker keeps offline, derived afresh on each
    request), with the pages' Content-Security-Policy and no caching so edits show on
    reload."""

    api_url = ""  # set by `serve_pages`
    sign_in: pages.SignIn | None = None  # set by `serve_pages`

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, directory=str(ROOT), **kwargs)

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if pages.LINK_PATH.match(path):
            self.path = path = pages.LINK_PAGE  # as CloudFront's rewrite (infra/)
        body = self.generated(path)
        if body is not None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        if path.lstrip("/").split("/", 1)[0] not in pages.FOLDERS:
            self.send_error(404)
            return
        super().do_GET()

    def generated(self, path: str) -> bytes | None:
        """A file written on request: the API address and sign-in, a page's offline list."""
        if path == f"/{pages.CONFIG_KEY}":
            return pages.page_config(self.api_url, self.sign_in)
        page, _, name = path.strip("/").partition("/")
        if name == pages.OFFLINE_LIST and page in pages.offline_pages(ROOT):
            return pages.offline_list(page, ROOT)
        return None

    def guess_type(self, path: str | os.PathLike[str]) -> str:
        return pages.content_type(Path(path))

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-store")
        cognito = pages.api_origin(self.sign_in.cognito_endpoint) if self.sign_in else None
        self.send_header(
            "Content-Security-Policy",
            pages.content_security_policy(pages.api_origin(self.api_url), cognito),
        )
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")  # as CloudFront's (infra/)
        self.send_header("X-Frame-Options", "DENY")
        super().end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


def serve_pages(
    port: int, api_url: str, sign_in: pages.SignIn | None = None
) -> ThreadingHTTPServer:
    """The kiosk and staff pages on 127.0.0.1:`port`, talking to `api_url` and signing in
    through `sign_in`."""
    handler = type("LocalPages", (StaticPages,), {"api_url": api_url, "sign_in": sign_in})
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def port_in_use(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def wait_for_api(api_url: str, token: str, process: subprocess.Popen[bytes]) -> None:
    request = urllib.request.Request(
        f"{api_url}/v1/kiosk/survey", headers={"Authorization": f"Bearer {token}"}
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("the API exited during start; see its output above")
        try:
            with urllib.request.urlopen(request, timeout=2):
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.3)
    raise RuntimeError("the API did not answer within 60 s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    parser.add_argument("--pages-port", type=int, default=int(os.environ.get("PAGES_PORT", "8001")))
    parser.add_argument(
        "--dynamodb-port", type=int, default=int(os.environ.get("DDB_PORT", "8100"))
    )
    parser.add_argument(
        "--moto-port",
        type=int,
        default=int(os.environ.get("MOTO_PORT", "0")),
        help="moto's server (Cognito, SNS); 0: a free port (demo.json names it)",
    )
    parser.add_argument(
        "--scheduler-interval",
        type=float,
        default=float(os.environ.get("SCHEDULER_INTERVAL_S", "10")),
    )
    args = parser.parse_args()
    LOCAL.mkdir(exist_ok=True)
    busy = [
        f"{name} port {port}"
        for name, port in (
            ("API", args.port),
            ("pages", args.pages_port),
            ("DynamoDB Local", args.dynamodb_port),
            ("moto", args.moto_port),
        )
        if port and port_in_use(port)
    ]
    if busy:
        print(
            f"cannot start: {', '.join(busy)} in use (is another `make run` still running?). "
            "Stop it, or choose other ports with PORT=, PAGES_PORT=, DDB_PORT= and MOTO_PORT=.",
            file=sys.stderr,
        )
        return 2

    database = dynamodb_local.start(args.dynamodb_port, db_path=LOCAL / "dynamodb")
    children: list[subprocess.Popen[bytes]] = [database.process]
    page_server: ThreadingHTTPServer | None = None
    identity: local_identity.LocalIdentity | None = None

    def stop(*_: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    # A shell starting us in the background sets SIGINT to "ignore"; Ctrl-C must always stop.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    api_url = f"http://127.0.0.1:{args.port}"
    scheduler = Scheduler(args.scheduler_interval)
    stopping: list[threading.Event] = []
    echo = NotificationEcho(LOCAL / "notifications.jsonl")
    try:
        keys = local_keys()
        identity = local_identity.start(
            DEMO_PEOPLE,
            {person.role: keys[f"{person.role}_password"] for person in DEMO_PEOPLE},
            args.moto_port,
        )
        pages_url = f"http://127.0.0.1:{args.pages_port}"
        env = local_env(database.endpoint, keys, api_url, pages_url, identity)
        os.environ.update(env)
        dynamodb_local.create_table(dynamodb_local.client(database.endpoint), TABLE_NAME)
        demo = seed()

        chalice = Path(sys.executable).with_name("chalice")
        api = subprocess.Popen(
            [
                str(chalice),
                "local",
                "--stage",
                "local",
                "--host",
                "127.0.0.1",
                "--port",
                str(args.port),
                "--no-autoreload",
            ],
            cwd=FUNCTIONS,
            env=os.environ.copy(),
        )
        children.append(api)
        sign_in = pages.SignIn(f"{identity.endpoint}/", identity.client_id, local_identity.REGION)
        page_server = serve_pages(args.pages_port, api_url, sign_in)
        wait_for_api(api_url, demo["kiosk_token"], api)
        scheduler.start()
        # The stream flags callbacks within seconds, as Lambda's event source mapping does.
        poller = stream_poller.StreamPoller(
            TABLE_NAME, database.endpoint, stream_poller.chalice_invoker()
        )
        poller.start()
        stopping.append(poller.stopped)
        echo.start()

        kiosk_url = f"{pages_url}/kiosk/#token={demo['kiosk_token']}"
        staff_url = env["STOREPULSE_STAFF_URL"]
        info = {
            "api_url": api_url,
            "kiosk_url": kiosk_url,
            "link_url": pages.link_url(pages_url, demo["store_id"]),
            "staff_url": staff_url,
            "dynamodb_endpoint": database.endpoint,
            "table_name": TABLE_NAME,
            **demo,
            "twilio_auth_token": keys["twilio_auth_token"],
            "twilio_webhook_url": env["STOREPULSE_TWILIO_WEBHOOK_URL"],
            "notifications_log": env["STOREPULSE_NOTIFICATIONS_LOG"],
            "scheduler_interval_s": args.scheduler_interval,
            # moto's server: Cognito (the staff page signs in here) and SNS (subscriptions).
            "cognito_endpoint": identity.endpoint,
            "region": local_identity.REGION,
            "user_pool_id": identity.pool_id,
            "user_pool_client_id": identity.client_id,
            **{
                f"{person.role}_{what}": value
                for person in DEMO_PEOPLE
                for what, value in (
                    ("email", person.email),
                    ("password", identity.passwords[person.email]),
                )
            },
            "sns_endpoint": identity.endpoint,
            "alerts_topic": identity.topics["StoreAlertsTopic"],
            "callbacks_topic": identity.topics["CallbacksTopic"],
            # The restart test kills these two as a crash would (SIGKILL, no clean-up).
            "api_pid": api.pid,
            "dynamodb_pid": database.process.pid,
        }
        demo_file = LOCAL / "demo.json"
        demo_file.write_text(json.dumps(info, indent=2) + "\n")
        print_banner(info, demo_file)
        while all(child.poll() is None for child in children):
            time.sleep(0.5)
        print("a component exited; stopping", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nstopping storepulse")
        return 0
    finally:
        scheduler.stopped.set()
        echo.stopped.set()
        for stopped in stopping:
            stopped.set()
        if page_server is not None:
            page_server.shutdown()
        if identity is not None:
            identity.stop()
        for child in reversed(children):
            if child.poll() is None:
                child.terminate()
        for child in children:
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()


def print_banner(info: dict[str, Any], demo_file: Path) -> None:
    rating = {
        "sent_at": "NOW",
        "ratings": [
            {"rating_id": "UUID", "score": 2, "tapped_at": "NOW", "reasons": ["wait_time"]}
        ],
    }
    body = json.dumps(rating).replace('"NOW"', '"\'"$(date -u +%FT%TZ)"\'"')
    body = body.replace('"UUID"', '"\'"$(python3 -c "import uuid;print(uuid.uuid4())")"\'"')
    print(
        f"""
storepulse is running (Ctrl-C stops it)
  API            {info["api_url"]}
  kiosk page     {info["kiosk_url"]}
  link survey    {info["link_url"]}  (the demo store's QR code)
  staff page     {info["staff_url"]}
  sign in as     {info["staff_email"]}  {info["staff_password"]}  (staff, {info["store_id"]})
                 {info["manager_email"]}  {info["manager_password"]}  (manager, {DEMO_REGION})
                 {info["admin_email"]}  {info["admin_password"]}  (admin)
  Cognito, SNS   {info["cognito_endpoint"]}  (moto; pool {info["user_pool_id"]})
  staff token    {info["staff_token"]}
                 (store {info["store_id"]}; other tokens in the credentials file)
  DynamoDB Local {info["dynamodb_endpoint"]}  (table {info["table_name"]})
  demo store     {info["store_id"]}   kiosk {info["kiosk_id"]}
  credentials    {demo_file}

Store a rating:
curl -s -X POST {info["api_url"]}/v1/kiosk/ratings \\
  -H 'Content-Type: application/json' \\
  -H 'Authorization: Bearer {info["kiosk_token"]}' \\
  -d '{body}'
""",
        flush=True,
    )


if __name__ == "__main__":
    sys.exit(main())
