"""`make phone`: a fake phone for the local stack. It texts the real Twilio webhook, signed
the way Twilio signs, and shows what storepulse texts back (replies, and invitations from
the local outbox).

    python -m devtools.fake_phone +14155550123 --invite      # ask the demo store to survey me
    python -m devtools.fake_phone +14155550123 "2"            # send one message
    python -m devtools.fake_phone +14155550123                # chat: type messages, Ctrl-D ends
"""

from __future__ import annotations

import argparse
import html
import json
import os
import sys
import urllib.request
import uuid
from pathlib import Path
from typing import Any

from devtools import dynamodb_local

LOCAL = Path(os.environ.get("STOREPULSE_LOCAL_DIR", dynamodb_local.ROOT / ".local"))
sys.path.insert(0, str(dynamodb_local.ROOT / "functions"))

from chalicelib.notify.twilio_webhook import twilio_signature  # noqa: E402


def text(demo: dict[str, Any], phone: str, body: str) -> str | None:
    """Send one SMS "from" `phone`; the reply storepulse answers with, if any."""
    params = {
        "MessageSid": f"SM{uuid.uuid4().hex}",
        "AccountSid": "AClocal",
        "From": phone,
        "To": "+15005550006",
        "Body": body,
        "NumMedia": "0",
    }
    request = urllib.request.Request(
        demo["twilio_webhook_url"],
        data=urllib.parse.urlencode(params).encode(),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": twilio_signature(
                demo["twilio_webhook_url"], params, demo["twilio_auth_token"]
            ),
        },
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        twiml = response.read().decode()
    if "<Message>" not in twiml:
        return None
    return html.unescape(twiml.split("<Message>", 1)[1].split("</Message>", 1)[0])


def invite(demo: dict[str, Any], phone: str) -> dict[str, Any]:
    request = urllib.request.Request(
        f"{demo['api_url']}/v1/surveys/invitations",
        data=json.dumps({"phone": phone, "store_id": demo["store_id"]}).encode(),
        headers={
            "Content-Type": "application/json",
            "Authorization": f"Bearer {demo['integration_token']}",
        },
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return dict(json.loads(response.read()))


def outbox_to(demo: dict[str, Any], phone: str, seen: int) -> tuple[list[str], int]:
    """Messages the local outbox holds for `phone` beyond the first `seen` lines."""
    path = Path(demo["notifications_log"])
    lines = path.read_text().splitlines() if path.exists() else []
    messages = [json.loads(line) for line in lines[seen:]]
    mine = [m["message"] for m in messages if m.get("attributes", {}).get("to") == phone]
    return mine, len(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("phone", help="the number texting, in E.164 (+14155550123)")
    parser.add_argument("message", nargs="?", help="one message to send (none: chat)")
    parser.add_argument("--invite", action="store_true", help="ask the demo store to survey me")
    args = parser.parse_intermixed_args()
    demo = json.loads((LOCAL / "demo.json").read_text())
    _, seen = outbox_to(demo, args.phone, 0)
    if args.invite:
        print(f"invitation: {invite(demo, args.phone)}")
    messages = [args.message] if args.message else None
    while True:
        pending, seen = outbox_to(demo, args.phone, seen)
        for sms in pending:
            print(f"< {sms}")
        if messages is None:
            try:
                line = input("> ")
            except EOFError:
                return
        elif messages:
            line = messages.pop()
        else:
            return
        reply = text(demo, args.phone, line)
        print(f"< {reply}" if reply else "  (no reply)")


if __name__ == "__main__":
    main()
