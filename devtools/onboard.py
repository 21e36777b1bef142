"""`make onboard CSV=stores.csv`: create the stores of a CSV and invite their staff and
managers, through the API's `POST /v1/onboarding` as an admin (docs/onboarding.md).

    python -m devtools.onboard stores.csv                        # the running local stack
    python -m devtools.onboard stores.csv --stack storepulse \\
        --email admin@example.com --password '...'               # a deployed stack
    python -m devtools.onboard stores.csv --api URL --token T    # any API, a bearer token

The file is checked here first (a wrong header stops it before anything is sent), then
sent in parts of at most 50 rows and 50 e-mails (what one request does inside API
Gateway's 29 s), each with the header and the file's line number of its first row, so every
result names the file's line. Each row's result is printed, then a summary; the exit status
is 1 if any row failed (run it again once they are fixed: rows that went in say `exists`
and are left as they are), 2 if the file could not be read at all.

Credentials: by default the local stack's admin (`.local/demo.json`: `api_url`,
`admin_token`). With --email and --password the admin signs in through Cognito
(InitiateAuth USER_PASSWORD_AUTH, as the staff page does) at
https://cognito-idp.<region>.amazonaws.com/ with the app client of --client-id, or of the
stack's `UserPoolClientId` output (--stack; its `EndpointURL` output is the API unless
--api says); against the local stack, its moto pool (demo.json's `cognito_endpoint`).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from devtools import dynamodb_local

sys.path.insert(0, str(dynamodb_local.ROOT / "functions"))

from chalicelib.domain.onboarding import Chunk, HeaderError, RowError, read_csv, split_csv

LOCAL = Path(os.environ.get("STOREPULSE_LOCAL_DIR", dynamodb_local.ROOT / ".local"))
TRIES = 4  # a part refused with 429/503 is sent again after Retry-After, this many times in all
TIMEOUT_S = 60  # API Gateway answers within 29 s

Post = Callable[[Chunk], dict[str, Any]]


class Refused(Exception):
    """The API refused a part, or could not be reached: no row of it is known to be in."""


def sign_in(endpoint: str, client_id: str, email: str, password: str) -> str:
    """The admin's ID token from Cognito's USER_PASSWORD_AUTH (no AWS credentials needed)."""
    request = urllib.request.Request(
        endpoint.rstrip("/") + "/",
        data=json.dumps(
            {
                "AuthFlow": "USER_PASSWORD_AUTH",
                "ClientId": client_id,
                "AuthParameters": {"USERNAME": email, "PASSWORD": password},
            }
        ).encode(),
        headers={
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": "AWSCognitoIdentityProviderService.InitiateAuth",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as answer:
            result: dict[str, Any] = json.loads(answer.read())
    except urllib.error.HTTPError as error:
        body = json.loads(error.read() or b"{}")
        raise SystemExit(f"sign-in refused: {body.get('message') or body.get('__type')}") from None
    if "AuthenticationResult" not in result:
        raise SystemExit(
            f"sign-in needs {result.get('ChallengeName', 'a challenge')}: sign in on the staff "
            "page once (it sets your own password), then run this again"
        )
    return str(result["AuthenticationResult"]["IdToken"])


def http_poster(api_url: str, token: str) -> Post:
    """A part sent to the API; 429 and 503 are sent again after Retry-After (every row of
    a part sent twice is left as the first time made it: the API is idempotent)."""

    def post(chunk: Chunk) -> dict[str, Any]:
        body = json.dumps({"csv": chunk.csv, "first_line": chunk.first_line}).encode()
        for attempt in range(1, TRIES + 1):
            request = urllib.request.Request(
                f"{api_url.rstrip('/')}/v1/onboarding",
                data=body,
                headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            )
            try:
                with urllib.request.urlopen(request, timeout=TIMEOUT_S) as answer:
                    result: dict[str, Any] = json.loads(answer.read())
                    return result
            except urllib.error.HTTPError as error:
                message = _error_message(error)
                if error.code not in (429, 502, 503, 504) or attempt == TRIES:
                    raise Refused(f"{error.code}: {message}") from None
                time.sleep(float(error.headers.get("Retry-After") or 2**attempt))
            except (urllib.error.URLError, TimeoutError) as error:
                raise Refused(f"the API cannot be reached: {error}") from None
        raise AssertionError("unreachable")

    return post


def _error_message(error: urllib.error.HTTPError) -> str:
    try:
        return str(json.loads(error.read())["error"]["message"])
    except (ValueError, KeyError, TypeError):
        return error.reason or "no message"


def onboard_file(text: str, post: Post, out: Callable[[str], None] = print) -> int:
    """Send the CSV in parts, print each row's result and a summary; the exit status."""
    try:
        chunks, doubles = split_csv(text)
    except HeaderError as error:
        out(f"the file cannot be onboarded: {error}")
        return 2
    rows: list[dict[str, Any]] = [
        {"line": d.line, "store_id": d.store_id, "status": "error", "error": d.message}
        for d in doubles
    ]
    for chunk in chunks:
        try:
            rows += post(chunk)["rows"]
        except Refused as refused:
            # What those rows are is not known: say so of each, and go on with the next part.
            rows += [
                {
                    "line": row.line,
                    "store_id": _store_id(row),
                    "status": "error",
                    "error": f"not sent: {refused}",
                }
                for row in _rows_of(chunk)
            ]
    rows.sort(key=lambda row: int(row["line"]))
    for row in rows:
        out(_described(row))
    count = {status: sum(r["status"] == status for r in rows) for status in ("created", "exists")}
    failed = [str(row["line"]) for row in rows if row["status"] == "error"]
    people = [person["status"] for row in rows for person in row.get("staff", [])]
    out(
        f"{len(rows)} rows: {count['created']} stores created, {count['exists']} already there, "
        f"{len(failed)} failed{' (lines ' + ', '.join(failed) + ')' if failed else ''}; "
        f"{people.count('invited')} people invited, {people.count('exists')} already there"
    )
    return 1 if failed else 0


def _rows_of(chunk: Chunk) -> list[Any]:
    return read_csv(chunk.csv, chunk.first_line)


def _store_id(row: Any) -> str:
    return str(row.store_id if isinstance(row, RowError) else row.store.store_id)


def _described(row: dict[str, Any]) -> str:
    line = f"line {row['line']:>6}  {row['store_id'] or '-':<24} {row['status']}"
    people = row.get("staff", [])
    if people:
        statuses = [person["status"] for person in people]
        line += (
            "  ("
            + ", ".join(
                f"{statuses.count(s)} {s}" for s in ("invited", "exists", "error") if s in statuses
            )
            + ")"
        )
    if row.get("error"):
        line += f": {row['error']}"
    for person in people:
        if person.get("error"):
            line += f"\n{'':13}{person['email']}: {person['error']}"
    return line


def _stack_outputs(stack: str, region: str | None) -> dict[str, str]:
    import boto3

    cloudformation = boto3.session.Session(region_name=region).client("cloudformation")
    (described,) = cloudformation.describe_stacks(StackName=stack)["Stacks"]
    return {output["OutputKey"]: output["OutputValue"] for output in described.get("Outputs", [])}


def credentials(args: argparse.Namespace) -> tuple[str, str]:
    """(API URL, bearer token) from the arguments, the stack's outputs or demo.json."""
    local = json.loads((LOCAL / "demo.json").read_text()) if not (args.stack or args.api) else {}
    outputs = _stack_outputs(args.stack, args.region) if args.stack else {}
    api_url = args.api or outputs.get("EndpointURL") or local.get("api_url")
    if not api_url:
        raise SystemExit("no API: give --api, or --stack for a deployed one")
    if args.token:
        return api_url, args.token
    if args.email:
        client_id = args.client_id or outputs.get("UserPoolClientId")
        client_id = client_id or local.get("user_pool_client_id")
        if not client_id:
            raise SystemExit("no app client: give --client-id, or --stack")
        endpoint = args.cognito_endpoint or local.get("cognito_endpoint")
        if not endpoint:
            import boto3

            region = args.region or boto3.session.Session().region_name
            endpoint = f"https://cognito-idp.{region}.amazonaws.com/"
        return api_url, sign_in(endpoint, client_id, args.email, args.password)
    if "admin_token" not in local:
        raise SystemExit("no credential: give --email and --password, or --token")
    return api_url, str(local["admin_token"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("csv", type=Path, help="the CSV file (docs/onboarding.md)")
    parser.add_argument("--api", help="the API's URL (default: the stack's, or the local one)")
    parser.add_argument("--stack", help="a deployed stack: its EndpointURL, UserPoolClientId")
    parser.add_argument("--region", help="the stack's region (default: the AWS CLI's)")
    parser.add_argument("--email", help="an admin's e-mail, signed in through Cognito")
    parser.add_argument("--password", help="their password (with --email)")
    parser.add_argument("--client-id", help="the pool's app client (default: the stack's)")
    parser.add_argument("--cognito-endpoint", help=argparse.SUPPRESS)  # a local moto pool
    parser.add_argument("--token", help="a bearer token of an admin, instead of signing in")
    args = parser.parse_args(argv)
    if args.email and not args.password:
        parser.error("--email needs --password")
    if args.token and args.email:
        parser.error("either --token or --email/--password")
    try:
        text = args.csv.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        parser.error(f"{args.csv}: {error} (save the CSV as UTF-8)")
    api_url, token = credentials(args)
    return onboard_file(text, http_poster(api_url, token))


if __name__ == "__main__":
    sys.exit(main())
