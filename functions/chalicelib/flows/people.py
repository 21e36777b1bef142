"""People: invite (the pool's user, their groups, the record), list, remove; each person's
notification preferences and the SNS subscriptions that carry them out.

Who may: an admin invites and removes anyone; a manager only people with role staff, for
stores of their region (all of the person's stores, to remove them); staff neither.
The person's record (storage.people) is what the staff pages list and what subscriptions
are made from; the pool's groups are what their ID token carries.
"""

from __future__ import annotations

import contextlib
from datetime import datetime
from typing import Literal
from urllib.parse import unquote

from pydantic import ValidationError

from .. import directory
from ..auth import StaffPrincipal
from ..clock import now as clock_now
from ..domain.people import InviteRequest, NotificationPreferences, Person, Role, merged
from ..domain.ratings import describe_errors
from ..errors import BadRequest, Conflict, DependencyUnavailable, Forbidden, NotFound
from ..notify import subscriptions
from ..observability import logger
from ..storage import people, stores


def invite(
    principal: StaffPrincipal,
    email: str,
    role: Role,
    stores: list[str] | None,
    region: str | None,
    now: datetime | None = None,
) -> Literal["invited", "exists"]:
    """Invite a person, idempotently: "invited" when the pool had no such user, "exists"
    when it had (their stores are then added). Conflict when the person exists with another
    role or region: that is a change of role, done by removing and inviting again."""
    try:
        request = InviteRequest(email=email, role=role, stores=stores, region=region)
    except ValidationError as error:
        raise BadRequest("the invitation does not fit", describe_errors(error)) from None
    return invite_request(principal, request, now or clock_now())


def invite_request(
    principal: StaffPrincipal, request: InviteRequest, now: datetime
) -> Literal["invited", "exists"]:
    _require_invite(principal, request)
    stored = people.get_person(request.email)
    created = directory.create_user(request.email)
    if stored is None and not created:  # in the pool without a record: their groups say
        stored = _from_directory(request.email)
    person = Person(
        email=request.email,
        role=request.role,
        stores=list(request.stores or ()),
        region=request.region,
        invited_at=now,
        invited_by=principal.subject,
    )
    if stored is not None:
        combined = merged(stored, request)
        if combined is None:
            raise Conflict(
                f"{request.email} is already a {stored.role}"
                + (f" of region {stored.region}" if stored.region else "")
                + ": remove them first to change their role"
            )
        person = combined
    directory.add_to_groups(request.email, _groups(person))
    people.put_person(person)
    if stored is not None and person.stores != stored.stores:
        _resubscribe(person)
    logger.info("person invited", extra={"role": person.role, "new_user": created})
    return "invited" if created else "exists"


def _groups(person: Person) -> list[str]:
    groups = [directory.store_group(store_id) for store_id in person.stores]
    if person.role == "manager" and person.region:
        groups.append(directory.manager_group(person.region))
    if person.role == "admin":
        groups.append(directory.ADMIN_GROUP)
    return groups


def _require_invite(principal: StaffPrincipal, request: InviteRequest) -> None:
    if principal.role != "admin":
        if principal.role != "manager":
            raise Forbidden("only managers and admins invite people")
        if request.role != "staff":
            raise Forbidden("only an admin invites managers and admins")
    for store_id in request.stores or ():
        store = stores.get_store(store_id)
        if store is None and principal.role == "admin":
            raise NotFound(f"store {store_id} does not exist")
        # Only an admin learns that a store id does not exist.
        if store is None or not principal.can_manage(store):
            raise Forbidden("a manager invites staff for the stores of their region only")


def visible_people(principal: StaffPrincipal) -> list[Person]:
    """Everyone for an admin; for a manager, the staff of their region's stores."""
    if principal.role not in ("admin", "manager"):
        raise Forbidden("only managers and admins list people")
    everyone = _everyone()
    if principal.role == "admin":
        return everyone
    return [
        person
        for person in everyone
        if person.role == "staff" and any(_manages_id(principal, s) for s in person.stores)
    ]


def _everyone() -> list[Person]:
    """The records, and the pool's people without one (made by hand, or by the local
    stack), judged by their groups."""
    recorded = people.list_people()
    if not directory.configured():
        return recorded
    known = {person.email for person in recorded}
    unrecorded = []
    for email, created_at in directory.list_users().items():
        if email not in known:
            with contextlib.suppress(NotFound):  # deleted since it was listed
                unrecorded.append(_from_directory(email, created_at))
    return sorted(recorded + unrecorded, key=lambda person: person.email)


def _manages_id(principal: StaffPrincipal, store_id: str) -> bool:
    store = stores.get_store(store_id)
    return store is not None and principal.can_manage(store)


def remove(principal: StaffPrincipal, email: str) -> None:
    """Remove a person: signed out and deleted from the pool, refused by the API at once
    (the removed list), their subscriptions gone. NotFound if nobody has that address."""
    email = unquote(email).strip().lower()  # a path segment: `@` may arrive as %40
    person = people.get_person(email)
    if person is None:
        person = _from_directory(email)
    if principal.role != "admin":
        if principal.role != "manager" or person.role != "staff":
            raise Forbidden("only an admin removes managers and admins")
        if not person.stores or not all(_manages_id(principal, s) for s in person.stores):
            raise Forbidden("a manager removes staff of the stores of their region only")
    if email == principal.subject:
        raise Conflict("you cannot remove yourself")
    directory.delete_user(email)
    subscriptions.unsubscribe(person.subscriptions)
    people.remove_person(email)
    logger.info("person removed", extra={"role": person.role})


def _from_directory(email: str, created_at: datetime | None = None) -> Person:
    """A person the pool has but the table does not (made before the records were kept, or
    by hand), read from their groups."""
    groups = directory.groups_of(email)
    if groups is None:
        raise NotFound(f"nobody is invited as {email}")
    store_ids = sorted(g.removeprefix("store:") for g in groups if g.startswith("store:"))
    regions = sorted(g.removeprefix("manager:") for g in groups if g.startswith("manager:"))
    role: Role = "admin" if "admin" in groups else "manager" if regions else "staff"
    return Person(
        email=email,
        role=role,
        stores=store_ids,
        region=regions[0] if regions else None,
        invited_at=created_at or clock_now(),
        invited_by="directory",
    )


# Notifications ---------------------------------------------------------------------------


def notifications_of(principal: StaffPrincipal) -> NotificationPreferences:
    person = people.get_person(principal.subject)
    return person.notifications if person else NotificationPreferences()


def set_notifications(
    principal: StaffPrincipal, preferences: NotificationPreferences
) -> NotificationPreferences:
    """Subscribe the person's e-mail and phone as they chose (the old subscriptions go
    first: SNS keeps one subscription per topic and address)."""
    person = people.get_person(principal.subject)
    if person is None:  # signed in, but invited by hand: the record starts here
        person = Person(
            email=principal.subject,
            role=principal.role,
            stores=sorted(principal.store_ids),
            region=min(principal.regions) if principal.regions else None,
            invited_at=clock_now(),
            invited_by="directory",
        )
        people.put_person(person)
    subscriptions.unsubscribe(person.subscriptions)
    people.set_notifications(person.email, person.notifications, [])
    arns = subscriptions.subscribe(
        person.email, person.role, person.stores, _regions(person), preferences
    )
    people.set_notifications(person.email, preferences, arns)
    return preferences


def _regions(person: Person) -> list[str]:
    return [person.region] if person.region else []


def _resubscribe(person: Person) -> None:
    """The person's stores changed: their subscriptions follow (best effort: the invitation
    stands; the next change of preferences makes them again)."""
    with contextlib.suppress(DependencyUnavailable):
        subscriptions.unsubscribe(person.subscriptions)
        arns = subscriptions.subscribe(
            person.email, person.role, person.stores, _regions(person), person.notifications
        )
        people.set_notifications(person.email, person.notifications, arns)
