"""The page upload puts every kiosk and staff file in the bucket, typed and revalidated."""

from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws

from devtools.pages import page_config
from devtools.upload_pages import page_files, upload

pytestmark = pytest.mark.unit

API = "https://abc123.execute-api.us-east-1.amazonaws.com/api/"


def test_the_pages_config_accepts_only_an_absolute_http_url():
    for bad in ("javascript:alert(1)", "//evil.example", "/api", ""):
        with pytest.raises(ValueError, match="absolute"):
            page_config(bad)


def test_every_page_file_is_uploaded_with_its_type_and_no_cache():
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="pages")

        keys = upload("pages", s3, API)
        index = s3.get_object(Bucket="pages", Key="kiosk/index.html")
        worker = s3.head_object(Bucket="pages", Key="kiosk/sw.js")
        config = s3.get_object(Bucket="pages", Key="config.json")

    assert {"kiosk/index.html", "kiosk/sw.js", "staff/index.html", "staff/app.js"} <= set(keys)
    assert len(keys) == len(page_files()) + 1
    assert json.loads(config["Body"].read()) == {"api_url": API.rstrip("/")}
    assert config["CacheControl"] == "no-cache"
    assert index["ContentType"] == "text/html; charset=utf-8"
    assert index["CacheControl"] == "no-cache"
    assert b"<html" in index["Body"].read()
    assert worker["ContentType"] == "text/javascript; charset=utf-8"
