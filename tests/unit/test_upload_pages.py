"""The page upload puts every kiosk and staff file in the bucket, typed and revalidated."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from devtools.upload_pages import page_files, upload

pytestmark = pytest.mark.unit


def test_every_page_file_is_uploaded_with_its_type_and_no_cache():
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="pages")

        keys = upload("pages", s3)
        index = s3.get_object(Bucket="pages", Key="kiosk/index.html")
        worker = s3.head_object(Bucket="pages", Key="kiosk/sw.js")

    assert {"kiosk/index.html", "kiosk/sw.js", "staff/index.html", "staff/app.js"} <= set(keys)
    assert len(keys) == len(page_files())
    assert index["ContentType"] == "text/html; charset=utf-8"
    assert index["CacheControl"] == "no-cache"
    assert b"<html" in index["Body"].read()
    assert worker["ContentType"] == "text/javascript; charset=utf-8"
