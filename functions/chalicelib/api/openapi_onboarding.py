"""The OpenAPI operations of bulk onboarding from a CSV (`onboarding_routes.py`)."""

from __future__ import annotations

from ..domain.onboarding import (
    EMAILS_PER_REQUEST,
    ROWS_PER_REQUEST,
    OnboardingReport,
    OnboardingRequest,
)
from .operation import BAD_BODY, NO_CREDENTIAL, STAFF, Operation

OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "POST",
        "/v1/onboarding",
        "onboard_stores",
        "onboarding",
        "Create the stores of a CSV and invite their staff and managers: each row's result "
        "(a bad row is reported with its line, the others go in; a row sent again is "
        "`exists`). An admin's",
        STAFF,
        {200: OnboardingReport},
        {
            400: f"{BAD_BODY}, or the CSV's header lacks a column or has an unknown one (the "
            "message names them)",
            401: NO_CREDENTIAL,
            403: "the caller is not an admin",
            413: f"more than {ROWS_PER_REQUEST} rows or {EMAILS_PER_REQUEST} e-mails in one "
            "request (split the CSV; the message says how), or a body larger than "
            "STOREPULSE_MAX_BODY_BYTES",
        },
        body=OnboardingRequest,
    ),
)
