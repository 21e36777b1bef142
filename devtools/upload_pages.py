"""`make pages-upload BUCKET=... API=...`: put the kiosk and staff pages (and `common/`, the
modules both import) in the deployed stack's PagesBucket (the `PagesBucketName` output),
served by its CloudFront distribution, with `/config.json` naming the API they talk to (the
`EndpointURL` output): the pages take their API address from that file only, never from a
URL. The kiosk's `files.json` (what its service worker keeps offline) is written from the
files uploaded, as the local pages server derives it.

Every file is sent as it is (no build step) with `Cache-Control: no-cache`: browsers and
CloudFront revalidate with the ETag on each load, so a new version reaches the tablets at
once, and the kiosk's service worker still serves its cached copy when the store is offline.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import boto3

from devtools.pages import (
    CONFIG_KEY,
    OFFLINE_LIST,
    ROOT,
    content_type,
    offline_list,
    offline_pages,
    page_config,
    page_files,
)


def upload(bucket: str, s3: Any, api_url: str, root: Path = ROOT) -> list[str]:
    """Upload the pages (each index.html also at its folder: `kiosk/`), their config and the
    kiosk's offline list; returns the keys written."""
    generated = {CONFIG_KEY: page_config(api_url)} | {
        f"{page}/{OFFLINE_LIST}": offline_list(page, root) for page in offline_pages(root)
    }
    for key, body in generated.items():
        s3.put_object(
            Bucket=bucket,
            Key=key,
            Body=body,
            ContentType="application/json",
            CacheControl="no-cache",
        )
    keys = list(generated)
    for path in page_files(root):
        key = path.relative_to(root).as_posix()
        # CloudFront asks S3 for the path as it is, and only `/` has a default object: the
        # page's address (`/kiosk/`: the KioskUrl output, the page its service worker keeps
        # for offline starts) is an object of its own, a copy of its index.html.
        folder = key.removesuffix("index.html")
        for name in [key, folder] if path.name == "index.html" else [key]:
            s3.put_object(
                Bucket=bucket,
                Key=name,
                Body=path.read_bytes(),
                ContentType=content_type(path),
                CacheControl="no-cache",
            )
            keys.append(name)
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
