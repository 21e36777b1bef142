"""What the kiosk and staff pages get from their deployment: the API address and the
Content-Security-Policy they are served with.

The pages never take the API address from a URL, a notification or anything a customer
wrote: they read `/config.json`, written next to them at deploy (`make pages-upload`) or
served by the local stack, and fall back to their own origin. The CSP then lets them talk
to that API and load their own files only, so even a page tricked into another address
could not send a credential there.
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

CONFIG_KEY = "config.json"


def api_origin(api_url: str) -> str:
    """`https://x.execute-api.us-east-1.amazonaws.com/api/` -> `https://x.execute-api...com`."""
    parts = urlsplit(api_url)
    if parts.scheme not in ("https", "http") or not parts.netloc:
        raise ValueError(f"the API URL must be absolute http(s): {api_url!r}")
    return f"{parts.scheme}://{parts.netloc}"


def page_config(api_url: str) -> bytes:
    """The body of `/config.json`: where the pages send their requests."""
    api_origin(api_url)  # refuses anything but an absolute http(s) URL
    return json.dumps({"api_url": api_url.rstrip("/")}).encode()


def content_security_policy(api_origin: str) -> str:
    """The pages' CSP: their own files, inline SVG data images, and the one API origin."""
    return "; ".join(
        [
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            "font-src 'self'",
            f"connect-src 'self' {api_origin}",
            "worker-src 'self'",
            "manifest-src 'self'",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        ]
    )
