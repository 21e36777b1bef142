"""People: invite, list and remove staff, managers and admins; a person's own
notification preferences.

The flow and its models load on first use, inside each handler: the kiosk ingest path, a
cold-start budget, never needs them."""

from __future__ import annotations

from typing import Any

from chalice.app import Response

from ..auth import staff_principal
from ..clock import now
from .http import ApiBlueprint, json_response, parse_body

bp = ApiBlueprint(__name__)


@bp.route("/v1/staff", methods=["POST"])
def invite() -> Any:
    """201 for a new person, 200 for one the pool had (their stores added)."""
    from ..domain.people import InviteRequest
    from ..flows import people

    principal = staff_principal(bp.current_request.headers)
    request = parse_body(bp.current_request, InviteRequest)
    status = people.invite_request(principal, request, now())
    body = request.model_dump(mode="json") | {"stores": request.stores or [], "status": status}
    return json_response(body, 201 if status == "invited" else 200)


@bp.route("/v1/staff", methods=["GET"])
def list_staff() -> Any:
    from ..flows import people

    principal = staff_principal(bp.current_request.headers)
    return {"staff": [person.view() for person in people.visible_people(principal)]}


@bp.route("/v1/staff/{email}", methods=["DELETE"])
def remove(email: str) -> Any:
    from ..flows import people

    people.remove(staff_principal(bp.current_request.headers), email)
    return Response(body="", status_code=204)


@bp.route("/v1/staff/me/notifications", methods=["GET"])
def notifications() -> Any:
    from ..flows import people

    principal = staff_principal(bp.current_request.headers)
    return people.notifications_of(principal).model_dump(mode="json")


@bp.route("/v1/staff/me/notifications", methods=["PUT"])
def set_notifications() -> Any:
    from ..domain.people import NotificationPreferences
    from ..flows import people

    principal = staff_principal(bp.current_request.headers)
    preferences = parse_body(bp.current_request, NotificationPreferences)
    return people.set_notifications(principal, preferences).model_dump(mode="json")
