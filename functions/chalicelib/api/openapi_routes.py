"""`GET /v1/openapi.json`: the API's OpenAPI 3.1 document, for anyone (no credential).

The document is built on the first request and kept for the container's life; its builder
(`openapi.py`, which loads every model of the API) is imported only then, so no other
route, least of all the kiosk ingest path's cold start, pays for it."""

from __future__ import annotations

from typing import Any

from chalice.app import Blueprint

bp = Blueprint(__name__)


@bp.route("/v1/openapi.json", methods=["GET"])
def get_openapi() -> Any:
    from .openapi import document

    return document()
