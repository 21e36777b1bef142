"""`make pages-upload BUCKET=... API=...`: put the kiosk and staff pages in the deployed
stack's PagesBucket (the `PagesBucketName` output), served by its CloudFront distribution,
with `/config.json` naming the API they talk to (the `EndpointURL` output): the pages take
their API address from that file only, never from a URL.

Every file is sent as it is (no build step) with `Cache-Control: no-cache`: browsers and
CloudFront revalidate with the ETag on each load, so a new version reaches the tablets at
once, and the kiosk's service worker still serves its cached copy when the store is offline.
"""

from __future__ import annotations

import argparse
import mimetypes
from pathlib import Path
from typing import Any

import boto3

from devtools.pages import CONFIG_KEY, page_config

ROOT = Path(__file__).resolve().parent.parent
PAGES = ("kiosk", "staff")
TEXT_TYPES = {".js": "text/javascript", ".css": "text/css", ".html": "text/html"}


def page_files(root: Path = ROOT) -> list[tuple[Path, str]]:
    """(file, object key) of every file the pages serve."""
    return [
        (path, path.relative_to(root).as_posix())
        for folder in PAGES
        for path in sorted((root / folder).rglob("*"))
        if path.is_file()
    ]


def upload(bucket: str, s3: Any, api_url: str, root: Path = ROOT) -> list[str]:
    """Upload the pages and their config; returns the keys written."""
    s3.put_object(
        Bucket=bucket,
        Key=CONFIG_KEY,
        Body=page_config(api_url),
        ContentType="application/json",
        CacheControl="no-cache",
    )
    keys = [CONFIG_KEY]
    for path, key in page_files(root):
        text = TEXT_TYPES.get(path.suffix)
        content_type = (
            f"{text}; charset=utf-8"
            if text
            else mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        )
        s3.put_object(
            Bucket=bucket,
            Key=key,
            Body=path.read_bytes(),
            ContentType=content_type,
            CacheControl="no-cache",
        )
        keys.append(key)
    return keys


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bucket", help="the stack's PagesBucketName output")
    parser.add_argument("api_url", help="the stack's EndpointURL output")
    args = parser.parse_args()
    for key in upload(args.bucket, boto3.client("s3"), args.api_url):
        print(f"s3://{args.bucket}/{key}")


if __name__ == "__main__":
    main()
