"""`make rebuild-aggregates SINCE=2026-11-01`: recompute every aggregate of the running local
stack from its raw ratings (after a bug fix or a rule change), through the app's own
`rebuild_aggregates` function. In AWS, invoke that Lambda with {"since": "2026-11-01"}."""

from __future__ import annotations

import argparse
import json
import os
import sys

from devtools import local_stack


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--since", required=True, help="first arrival day to read (YYYY-MM-DD)")
    args = parser.parse_args()
    demo = json.loads((local_stack.LOCAL / "demo.json").read_text())
    os.environ.update(
        local_stack.local_env(demo["dynamodb_endpoint"], local_stack.local_keys(), demo["api_url"])
    )
    sys.path.insert(0, str(local_stack.FUNCTIONS))
    from chalice.test import Client

    from app import app

    with Client(app) as client:
        result = client.lambda_.invoke("rebuild_aggregates", {"since": args.since})
    print(json.dumps(result.payload))


if __name__ == "__main__":
    main()
