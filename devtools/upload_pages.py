"""`make pages-upload STACK=storepulse`: put the kiosk and staff pages (and `common/`, the
modules both import) in the deployed stack's PagesBucket (the `PagesBucketName` output),
served by its CloudFront distribution, with `/config.json` naming the API they talk to (the
`EndpointURL` output) and where the staff page signs in (the region's Cognito endpoint and
the `UserPoolClientId` output): the pages take these from that file only, never from a URL.
Each value can also be given on its own (BUCKET=, API=, CLIENT_ID=, REGION=) instead of
read from the stack's outputs. The kiosk's `files.json` (what its service worker keeps
offline) is written from the files uploaded, as the local pages server derives it.

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
    SignIn,
    cognito_endpoint,
    content_type,
    offline_list,
    offline_pages,
    page_config,
    page_files,
)


def upload(
    bucket: str, s3: Any, api_url: str, root: Path = ROOT, sign_in: SignIn | None = None
) -> list[str]:
    """Upload the pages (each index.html also at its folder: `kiosk/`), their config and the
    kiosk's offline list; returns the keys written."""
    generated = {CONFIG_KEY: page_config(api_url, sign_in)} | {
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


def stack_outputs(cloudformation: Any, stack: str) -> dict[str, str]:
    """The stack's outputs by key (e.g. PagesBucketName, EndpointURL, UserPoolClientId)."""
    (described,) = cloudformation.describe_stacks(StackName=stack)["Stacks"]
    return {output["OutputKey"]: output["OutputValue"] for output in described.get("Outputs", [])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stack", help="the deployed stack: its outputs give what is not set")
    parser.add_argument("--bucket", help="the stack's PagesBucketName output")
    parser.add_argument("--api", help="the stack's EndpointURL output")
    parser.add_argument("--client-id", help="the stack's UserPoolClientId output")
    parser.add_argument("--region", help="the stack's region (default: the AWS CLI's)")
    args = parser.parse_args()
    session = boto3.session.Session(region_name=args.region)
    region = session.region_name
    outputs = stack_outputs(session.client("cloudformation"), args.stack) if args.stack else {}
    bucket = args.bucket or outputs.get("PagesBucketName")
    api_url = args.api or outputs.get("EndpointURL")
    client_id = args.client_id or outputs.get("UserPoolClientId")
    missing = [
        name
        for name, value in (("BUCKET", bucket), ("API", api_url), ("CLIENT_ID", client_id))
        if not value
    ] + ([] if region else ["REGION"])
    if missing:
        parser.error(f"set STACK=<stack name>, or {', '.join(missing)}")
    sign_in = SignIn(cognito_endpoint(region), client_id, region)
    s3 = session.client("s3")
    for key in upload(bucket, s3, api_url, sign_in=sign_in):
        print(f"s3://{bucket}/{key}")


if __name__ == "__main__":
    main()
