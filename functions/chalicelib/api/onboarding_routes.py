"""Bulk onboarding: an admin posts a CSV of stores and their people (or part of one)."""

from __future__ import annotations

from typing import Any

from ..auth import staff_principal
from .http import ApiBlueprint, parse_body

bp = ApiBlueprint(__name__)


@bp.route("/v1/onboarding", methods=["POST"])
def onboard_csv() -> Any:
    """200 with each row's result, whatever the rows hold (docs/onboarding.md)."""
    # Loaded by the first onboarding request, not at the app's cold start: the CSV rules
    # and the phone library they use cost some 75 ms to import, which the kiosk path (the
    # same Lambda) never needs.
    from ..domain.onboarding import OnboardingRequest
    from ..flows.onboarding import onboard

    principal = staff_principal(bp.current_request.headers)
    principal.require_admin()  # before the body is read: nothing of it reaches anyone else
    request = parse_body(bp.current_request, OnboardingRequest)
    report = onboard(principal, request.csv, request.first_line)
    return report.model_dump(mode="json", exclude_none=True)
