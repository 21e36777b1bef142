"""Bulk onboarding: each good row of a CSV becomes a store (`flows.stores.create_store`)
and its people are invited (`flows.people.invite`): staff to the row's store, managers to
its region. It stops on nothing: a row that cannot go in, for its data or because a
dependency failed, is reported with its line, and the next row goes in. Both flows leave
what exists as it is, so a run again reports every row `exists` and changes nothing (a
row that failed half way, its store created and an invitation not, is finished by it).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Literal

from pydantic import ValidationError

from ..auth import StaffPrincipal
from ..domain.onboarding import (
    EMAILS_PER_REQUEST,
    ROWS_PER_REQUEST,
    HeaderError,
    OnboardingReport,
    OnboardingRow,
    PersonResult,
    RowError,
    RowResult,
    read_csv,
)
from ..domain.ratings import describe_errors
from ..domain.survey import DEFAULT_SURVEY, Store, Survey
from ..errors import AppError, BadRequest, PayloadTooLarge
from ..observability import logger
from . import people, stores

# The limits of a request leave room in API Gateway's 29 s; should Cognito be slow all the
# same, rows not started by this time are reported for sending again, not cut off by a 504.
TIME_BUDGET_S = 20.0

# The store and people flows' signatures (tests pass stand-ins).
CreateStore = Callable[[Store], Literal["created", "exists"]]
Invite = Callable[
    [StaffPrincipal, str, Literal["staff", "manager"], list[str] | None, str | None],
    Literal["invited", "exists"],
]


def onboard(
    principal: StaffPrincipal,
    csv_text: str,
    first_line: int = 2,
    survey: Survey = DEFAULT_SURVEY,
    *,
    create_store: CreateStore | None = None,
    invite: Invite | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> OnboardingReport:
    """Create the stores of a CSV (or part of one) and invite their people: an admin's.
    BadRequest if the header is wrong, PayloadTooLarge over ROWS_PER_REQUEST rows or
    EMAILS_PER_REQUEST e-mails (the caller sends the file in parts: `split_csv`)."""
    principal.require_admin()
    try:
        rows = read_csv(csv_text, first_line, survey)
    except HeaderError as error:
        raise BadRequest(str(error), [{"field": "csv", "message": str(error)}]) from None
    emails = sum(row.email_count for row in rows if isinstance(row, OnboardingRow))
    if len(rows) > ROWS_PER_REQUEST or emails > EMAILS_PER_REQUEST:
        raise PayloadTooLarge(
            f"{len(rows)} rows and {emails} e-mails: a request takes at most "
            f"{ROWS_PER_REQUEST} rows and {EMAILS_PER_REQUEST} e-mails, so that it finishes "
            "in API Gateway's 29 s. Split the CSV (each part with the header, and "
            "`first_line` its first row's line): `python -m devtools.onboard` does"
        )
    create_store = create_store or stores.create_store
    invite = invite or people.invite
    done: dict[tuple[str, str, str], Literal["invited", "exists"]] = {}
    results = []
    ends = clock() + TIME_BUDGET_S
    for row in rows:
        if isinstance(row, OnboardingRow) and clock() >= ends:
            results.append(
                RowResult(
                    line=row.line,
                    store_id=row.store.store_id,
                    status="error",
                    error=f"not started: this request's {TIME_BUDGET_S:.0f} s ran out; "
                    "sending the row again is safe",
                )
            )
        elif isinstance(row, RowError):
            results.append(
                RowResult(line=row.line, store_id=row.store_id, status="error", error=row.message)
            )
        else:
            results.append(_onboard_row(principal, row, create_store, invite, done))
    report = OnboardingReport.of(results)
    logger.info(
        "onboarding part done",
        # not "created": a LogRecord attribute, which `extra` may not set
        extra={
            "stores_created": report.created,
            "stores_existing": report.exists,
            "rows_failed": report.errors,
        },
    )
    return report


def _onboard_row(
    principal: StaffPrincipal,
    row: OnboardingRow,
    create_store: CreateStore,
    invite: Invite,
    done: dict[tuple[str, str, str], Literal["invited", "exists"]],
) -> RowResult:
    store = row.store
    try:
        status = create_store(store)
    except Exception as error:  # one row's failure stops nothing
        return RowResult(line=row.line, store_id=store.store_id, status="error", error=_why(error))
    wanted = [(email, "staff") for email in row.staff_emails]
    wanted += [(email, "manager") for email in row.manager_emails]
    staff: list[PersonResult] = []
    for email, role in wanted:
        # A region's manager is on each of its rows: invited once a request, "exists" after.
        key = (email, role, store.store_id if role == "staff" else store.region or "")
        try:
            if key in done:
                invited: Literal["invited", "exists"] = "exists"
            elif role == "staff":
                invited = invite(principal, email, "staff", [store.store_id], None)
            else:
                invited = invite(principal, email, "manager", None, store.region)
            done[key] = invited
            staff.append(PersonResult(email=email, status=invited))
        except Exception as error:  # the next person, and the next row, still go in
            staff.append(PersonResult(email=email, status="error", error=_why(error)))
    failed = [person.email for person in staff if person.status == "error"]
    if failed:
        created = "created" if status == "created" else "was there"
        return RowResult(
            line=row.line,
            store_id=store.store_id,
            status="error",
            error=f"the store {created}; not invited: {', '.join(failed)} (see staff); "
            "sending the row again is safe",
            staff=staff,
        )
    return RowResult(line=row.line, store_id=store.store_id, status=status, staff=staff)


def _why(error: Exception) -> str:
    """What the report says of a failure: the app's own message; for anything else only
    that it failed (a bug is logged with its trace, and never shown)."""
    if isinstance(error, AppError):
        retry = f" (retry after {error.retry_after} s)" if error.retry_after else ""
        return error.message + retry
    if isinstance(error, ValidationError):
        return "; ".join(f"{item['field']}: {item['message']}" for item in describe_errors(error))
    logger.exception("onboarding row failed")
    return "an internal error; sending the row again is safe"
