"""The page upload puts every kiosk, staff and common/ file in the bucket, typed and
revalidated, with the kiosk's offline list derived from the files."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from devtools.pages import PAGES, ROOT, offline_list, page_config, page_files, transferred_size
from devtools.upload_pages import upload

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
        opened = {page: s3.get_object(Bucket="pages", Key=f"{page}/") for page in PAGES}
        worker = s3.head_object(Bucket="pages", Key="kiosk/sw.js")
        shared = s3.head_object(Bucket="pages", Key="common/page.js")
        config = s3.get_object(Bucket="pages", Key="config.json")
        offline = s3.get_object(Bucket="pages", Key="kiosk/files.json")

    assert {"kiosk/index.html", "kiosk/sw.js", "staff/index.html", "staff/app.js"} <= set(keys)
    assert "common/page.js" in keys
    # config.json, kiosk/files.json and each page's address (kiosk/, staff/)
    assert len(keys) == len(page_files()) + 4
    assert json.loads(config["Body"].read()) == {"api_url": API.rstrip("/")}
    assert config["CacheControl"] == "no-cache"
    assert index["ContentType"] == "text/html; charset=utf-8"
    assert index["CacheControl"] == "no-cache"
    assert b"<html" in index["Body"].read()
    # CloudFront serves /kiosk/ (the KioskUrl output) and /staff/ as these objects.
    for page, body in opened.items():
        assert body["ContentType"] == "text/html; charset=utf-8"
        assert body["Body"].read() == (ROOT / page / "index.html").read_bytes()
    assert worker["ContentType"] == "text/javascript; charset=utf-8"
    # An ES module with any other type is refused by the browser.
    assert shared["ContentType"] == "text/javascript; charset=utf-8"
    assert offline["ContentType"] == "application/json"
    assert offline["CacheControl"] == "no-cache"
    assert offline["Body"].read() == offline_list("kiosk")


def test_the_kiosk_offline_list_is_every_file_the_kiosk_can_load():
    files = json.loads(offline_list("kiosk"))["files"]

    assert files[0] == "./"  # the page as it is opened, /kiosk/
    assert {"index.html", "app.js", "queue.js", "strings.js", "kiosk.css"} <= set(files)
    assert "../common/page.js" in files
    # Every module the kiosk imports is listed, so an offline start finds it in the cache.
    for module in (ROOT / "kiosk").glob("*.js"):
        for imported in re.findall(r'from "(\.\.?/[^"]+)"', module.read_text()):
            assert imported.removeprefix("./") in files, (module.name, imported)
    assert not any("staff" in file for file in files)


def test_hidden_files_are_not_page_files(tmp_path):
    for folder in ("kiosk", "staff", "common"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "index.html").write_text("<html>")
    (tmp_path / "kiosk" / ".index.html.swp").write_text("swap")
    (tmp_path / "kiosk" / "sw.js").write_text("")

    assert [p.relative_to(tmp_path).as_posix() for p in page_files(tmp_path)] == [
        "kiosk/index.html",
        "kiosk/sw.js",
        "staff/index.html",
        "common/index.html",
    ]
    assert json.loads(offline_list("kiosk", tmp_path))["files"] == [
        "./",
        "index.html",
        "sw.js",
        "../common/index.html",
    ]


def _imports(module: Path) -> list[Path]:
    return [
        (module.parent / name).resolve()
        for name in re.findall(r'^import .* from "(\.\.?/[^"]+)";$', module.read_text(), re.M)
    ]


def test_every_module_a_page_imports_is_a_page_file():
    # So it is uploaded, served by the local pages server and, for the kiosk, kept offline.
    served = {path.resolve() for path in page_files()}
    for module in (path for path in served if path.suffix == ".js"):
        for imported in _imports(module):
            assert imported in served, (module.relative_to(ROOT), imported)


def test_the_page_modules_import_one_way():
    # No cycle: a screen module is read (and loaded) after what it builds on.
    graph = {path.resolve(): _imports(path) for path in page_files() if path.suffix == ".js"}
    done: set[Path] = set()

    def visit(module: Path, path: tuple[Path, ...]) -> None:
        cycle = " -> ".join(p.relative_to(ROOT).as_posix() for p in (*path, module))
        assert module not in path, cycle
        if module in done:
            return
        for imported in graph.get(module, []):
            visit(imported, (*path, module))
        done.add(module)

    for module in graph:
        visit(module, ())


def test_a_budget_counts_the_bytes_cloudfront_sends(tmp_path):
    small, script, image = tmp_path / "a.js", tmp_path / "b.js", tmp_path / "c.png"
    small.write_text("x" * 999)  # under CloudFront's 1,000 bytes: sent as it is
    script.write_text("const a = 1;\n" * 1_000)
    image.write_bytes(b"\x89PNG" * 1_000)  # not a text type: never compressed

    assert transferred_size(small) == 999
    assert transferred_size(script) == len(gzip.compress(script.read_bytes(), mtime=0)) < 13_000
    assert transferred_size(image) == 4_000
