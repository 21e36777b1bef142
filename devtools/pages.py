"""What the kiosk and staff pages are and get from their deployment: their files (each
page's folder and `common/`, the modules both import) with their types, the list of files
the kiosk's service worker keeps for offline starts, the API address and the
Content-Security-Policy they are served with. The local pages server (devtools/local_stack.py)
and the upload to the bucket (devtools/upload_pages.py) both serve what this module says.

The pages never take the API address from a URL, a notification or anything a customer
wrote: they read `/config.json`, written next to them at deploy (`make pages-upload`) or
served by the local stack, and fall back to their own origin. The same file names where the
staff page signs in: the Cognito endpoint, the app client and the region. The CSP then lets
them talk to that API and that Cognito endpoint and load their own files only, so even a
page tricked into another address could not send a credential or a password there.
"""

from __future__ import annotations

import gzip
import json
import mimetypes
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
PAGES = ("kiosk", "staff")
COMMON = "common"  # the modules both pages import, as `../common/...`
FOLDERS = (*PAGES, COMMON)  # what is served; nothing else of the repository
CONFIG_KEY = "config.json"
# Beside a page that has a service worker (`sw.js`): what the worker caches at install.
OFFLINE_LIST = "files.json"
# ES modules load only with a JavaScript type (and nosniff lets no guess stand in for it).
TEXT_TYPES = {".js": "text/javascript", ".css": "text/css", ".html": "text/html"}


def page_files(root: Path = ROOT) -> list[Path]:
    """Every file served: the page folders' and `common/`'s, subfolders included (not
    hidden ones: an editor's swap file is no page file)."""
    return [
        path
        for folder in FOLDERS
        for path in sorted((root / folder).rglob("*"))
        if path.is_file() and not any(part.startswith(".") for part in path.relative_to(root).parts)
    ]


# CloudFront compresses (the distribution's `Compress: true`) text it gets from S3 between
# 1,000 bytes and 10 MB for a browser that accepts gzip or Brotli; smaller files go as they are.
COMPRESSED_FROM = 1_000
COMPRESSIBLE = ("text/", "application/javascript", "application/json", "image/svg+xml")


def transferred_size(path: Path) -> int:
    """The bytes CloudFront sends for a page file, taking gzip (Brotli, which browsers prefer,
    is smaller still): what the pages' size budgets count."""
    body = path.read_bytes()
    if len(body) < COMPRESSED_FROM or not content_type(path).startswith(COMPRESSIBLE):
        return len(body)
    return len(gzip.compress(body, mtime=0))


def content_type(path: Path) -> str:
    """The Content-Type a page file is served with."""
    text = TEXT_TYPES.get(path.suffix)
    if text:
        return f"{text}; charset=utf-8"
    return mimetypes.guess_type(path.name)[0] or "application/octet-stream"


def offline_pages(root: Path = ROOT) -> list[str]:
    """The pages with a service worker, each served with its `files.json`."""
    return [page for page in PAGES if (root / page / "sw.js").is_file()]


def offline_list(page: str, root: Path = ROOT) -> bytes:
    """The body of `<page>/files.json`: the page itself (`./`) and every file of its folder
    and of `common/`, as URLs relative to the page. Derived from the folders, so a module
    added to the page is kept for offline starts without anyone listing it."""
    folder, files = root / page, page_files(root)
    own = [path.relative_to(folder).as_posix() for path in files if path.is_relative_to(folder)]
    common = [
        f"../{path.relative_to(root).as_posix()}"
        for path in files
        if path.is_relative_to(root / COMMON)
    ]
    return json.dumps({"files": ["./", *own, *common]}, indent=1).encode()


# The link survey: `/s/<store code>` (a printed QR code) is the kiosk page, which finds its
# link mode from the path (kiosk/app.js). The store code is a store id.
LINK_PATH = re.compile(r"^/s/[a-z0-9][a-z0-9-]{1,62}/?$")
LINK_PAGE = "/kiosk/index.html"


def link_url(pages_url: str, store_id: str) -> str:
    """The address a store's QR code holds."""
    return f"{pages_url.rstrip('/')}/s/{store_id}"


def api_origin(api_url: str) -> str:
    """`https://x.execute-api.us-east-1.amazonaws.com/api/` -> `https://x.execute-api...com`."""
    parts = urlsplit(api_url)
    if parts.scheme not in ("https", "http") or not parts.netloc:
        raise ValueError(f"the API URL must be absolute http(s): {api_url!r}")
    return f"{parts.scheme}://{parts.netloc}"


@dataclass(frozen=True)
class SignIn:
    """Where the staff page signs people in: the user pool's Cognito endpoint (the URL its
    JSON API is POSTed to, ending in `/`), the staff page's app client and the region."""

    cognito_endpoint: str
    user_pool_client_id: str
    region: str


def cognito_endpoint(region: str) -> str:
    """Cognito's endpoint in AWS for `region` (the pool's region)."""
    suffix = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    return f"https://cognito-idp.{region}.{suffix}/"


def page_config(api_url: str, sign_in: SignIn | None = None) -> bytes:
    """The body of `/config.json`: where the pages send their requests (and, with a user
    pool, where the staff page signs in)."""
    api_origin(api_url)  # refuses anything but an absolute http(s) URL
    config = {"api_url": api_url.rstrip("/")}
    if sign_in is not None:
        api_origin(sign_in.cognito_endpoint)  # the same rule for the sign-in address
        config |= {
            "cognito_endpoint": sign_in.cognito_endpoint,
            "user_pool_client_id": sign_in.user_pool_client_id,
            "region": sign_in.region,
        }
    return json.dumps(config).encode()


def content_security_policy(api_origin: str, cognito_origin: str | None = None) -> str:
    """The pages' CSP: their own files, inline SVG data images, the one API origin and the
    one Cognito origin the staff page signs in through."""
    connect = " ".join(["'self'", api_origin, *([cognito_origin] if cognito_origin else [])])
    return "; ".join(
        [
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            "font-src 'self'",
            f"connect-src {connect}",
            "worker-src 'self'",
            "manifest-src 'self'",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        ]
    )
