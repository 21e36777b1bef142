"""The people directory: the Cognito user pool's admin calls (users, groups, sign-out).

Groups name a person's role and stores (`admin`, `manager:<region>`, `store:<store_id>`);
they are created on first use. The pool has e-mail as its username. How the invited learn
their temporary password is `staff_invite_delivery`: Cognito's own invitation e-mail in AWS,
or, locally, a password made here and published on the outbox's "invitations" topic (no
e-mail is sent; the local stack and tests read it from the notifications log).

Every call is bounded (connect and read timeouts, two attempts); a failure, or a pool that is
not configured, is DependencyUnavailable: the caller may retry.
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from functools import lru_cache
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from .aws_clients import bounded_client
from .config import settings
from .errors import DependencyUnavailable
from .notify.topics import publish

INVITATIONS_TOPIC = "invitations"


@lru_cache(maxsize=1)
def _idp() -> Any:
    return bounded_client(
        "cognito-idp",
        settings().cognito_endpoint,
        connect_timeout_s=2,
        read_timeout_s=5,
        attempts=2,
    )


def _pool() -> str:
    pool_id = settings().cognito_user_pool_id
    if not pool_id:
        raise DependencyUnavailable("no user pool is configured", settings().retry_after_s)
    return pool_id


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


@contextmanager
def _unavailable_on_failure() -> Iterator[None]:
    try:
        yield
    except ClientError as error:
        raise DependencyUnavailable(
            f"the user directory refused the call ({_code(error)}); retry later",
            settings().retry_after_s,
        ) from error
    except BotoCoreError as error:
        raise DependencyUnavailable(
            "the user directory is unreachable; retry later", settings().retry_after_s
        ) from error


def store_group(store_id: str) -> str:
    return f"store:{store_id}"


def manager_group(region: str) -> str:
    return f"manager:{region}"


ADMIN_GROUP = "admin"


def user_exists(email: str) -> bool:
    try:
        with _unavailable_on_failure():
            _idp().admin_get_user(UserPoolId=_pool(), Username=email)
    except DependencyUnavailable as failure:
        cause = failure.__cause__
        if isinstance(cause, ClientError) and _code(cause) == "UserNotFoundException":
            return False
        raise
    return True


def groups_of(email: str) -> list[str] | None:
    """The person's groups, or None if the pool has no such user."""
    if not user_exists(email):
        return None
    groups: list[str] = []
    request: dict[str, Any] = {"UserPoolId": _pool(), "Username": email}
    with _unavailable_on_failure():
        while True:
            answer = _idp().admin_list_groups_for_user(**request)
            groups.extend(str(group["GroupName"]) for group in answer.get("Groups", []))
            if not answer.get("NextToken"):
                return groups
            request["NextToken"] = answer["NextToken"]


def create_user(email: str) -> bool:
    """Invite a person (e-mail as username); False if the pool has them already. With the
    outbox delivery, the temporary password is made here and published on "invitations"."""
    request: dict[str, Any] = {
        "UserPoolId": _pool(),
        "Username": email,
        "UserAttributes": [
            {"Name": "email", "Value": email},
            {"Name": "email_verified", "Value": "true"},  # invited by their own address
        ],
        "DesiredDeliveryMediums": ["EMAIL"],
    }
    password = None
    if settings().staff_invite_delivery == "outbox":
        password = temporary_password()
        request |= {"TemporaryPassword": password, "MessageAction": "SUPPRESS"}
        del request["DesiredDeliveryMediums"]
    try:
        with _unavailable_on_failure():
            _idp().admin_create_user(**request)
    except DependencyUnavailable as failure:
        cause = failure.__cause__
        if isinstance(cause, ClientError) and _code(cause) == "UsernameExistsException":
            return False
        raise
    if password is not None:
        _publish_invitation(email, password)
    return True


def _publish_invitation(email: str, password: str) -> None:
    staff_url = settings().staff_url
    publish(
        INVITATIONS_TOPIC,
        "You are invited to storepulse",
        f"Sign in at {staff_url} with {email} and the temporary password {password} "
        "(you choose your own password at the first sign-in).",
        {"email": email},
    )


def temporary_password() -> str:
    """A password Cognito's default policy accepts: 8+ characters with upper and lower case,
    digits and a symbol."""
    alphabet = string.ascii_letters + string.digits
    body = "".join(secrets.choice(alphabet) for _ in range(16))
    return f"{body}Aa1!"


def add_to_groups(email: str, groups: list[str]) -> None:
    """Add the person to each group, creating the group on first use."""
    pool = _pool()
    for group in groups:
        try:
            with _unavailable_on_failure():
                _idp().create_group(UserPoolId=pool, GroupName=group)
        except DependencyUnavailable as failure:
            cause = failure.__cause__
            if not (isinstance(cause, ClientError) and _code(cause) == "GroupExistsException"):
                raise
        with _unavailable_on_failure():
            _idp().admin_add_user_to_group(UserPoolId=pool, Username=email, GroupName=group)


def delete_user(email: str) -> None:
    """Sign the person out everywhere (their refresh tokens stop working) and delete them;
    nothing to do for a person the pool does not have. Their ID tokens live until they
    expire: the API refuses them through the removed list (storage.people)."""
    pool = _pool()
    for call in (_idp().admin_user_global_sign_out, _idp().admin_delete_user):
        try:
            with _unavailable_on_failure():
                call(UserPoolId=pool, Username=email)
        except DependencyUnavailable as failure:
            cause = failure.__cause__
            if isinstance(cause, ClientError) and _code(cause) == "UserNotFoundException":
                return
            raise


def configured() -> bool:
    return bool(settings().cognito_user_pool_id)


def list_users() -> dict[str, datetime]:
    """Every person in the pool: their e-mail and when they were created."""
    users: dict[str, datetime] = {}
    request: dict[str, Any] = {"UserPoolId": _pool()}
    with _unavailable_on_failure():
        while True:
            answer = _idp().list_users(**request)
            for user in answer.get("Users", []):
                attributes = {a["Name"]: a["Value"] for a in user.get("Attributes", [])}
                email = str(attributes.get("email") or user["Username"]).lower()
                users[email] = user["UserCreateDate"]
            if not answer.get("PaginationToken"):
                return users
            request["PaginationToken"] = answer["PaginationToken"]


def clear_caches() -> None:
    _idp.cache_clear()
