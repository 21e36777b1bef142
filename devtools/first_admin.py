"""`make first-admin EMAIL=you@example.com STACK=storepulse`: the first admin of a deployed
stack, in its user pool (the `UserPoolId` output) and its `admin` group. Cognito e-mails
them a temporary password (the pool's invitation message); they sign in on the staff page
(the `StaffUrl` output) and choose their own password. Every other person is invited from
the staff page (or `make onboard`) by that admin.

Run it with the deploying account's credentials (the AWS CLI's): it needs
cloudformation:DescribeStacks on the stack and cognito-idp:AdminCreateUser,
AdminAddUserToGroup on the pool. Run again for the same address, it leaves the person as
they are (no second e-mail) and only makes sure they are in `admin`.
"""

from __future__ import annotations

import argparse
from typing import Any, Literal

import boto3

from devtools.upload_pages import stack_outputs

ADMIN_GROUP = "admin"  # infra/resources.yaml's AdminGroup


def create_admin(idp: Any, pool_id: str, email: str) -> Literal["invited", "exists"]:
    """Invite `email` into the pool (Cognito e-mails the temporary password) and the admin
    group; "exists" if the pool had them already (then only the group is made sure of)."""
    email = email.strip().lower()
    status: Literal["invited", "exists"] = "invited"
    try:
        idp.admin_create_user(
            UserPoolId=pool_id,
            Username=email,
            UserAttributes=[
                {"Name": "email", "Value": email},
                # The invitation reaches this address, which verifies it (password recovery
                # by e-mail needs a verified address).
                {"Name": "email_verified", "Value": "true"},
            ],
            DesiredDeliveryMediums=["EMAIL"],
        )
    except idp.exceptions.UsernameExistsException:
        status = "exists"
    idp.admin_add_user_to_group(UserPoolId=pool_id, Username=email, GroupName=ADMIN_GROUP)
    return status


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("email", help="the first admin's e-mail address")
    parser.add_argument("--stack", required=True, help="the deployed stack's name")
    parser.add_argument("--region", help="the stack's region (default: the AWS CLI's)")
    args = parser.parse_args(argv)
    if "@" not in args.email:
        parser.error(f"not an e-mail address: {args.email!r}")
    session = boto3.session.Session(region_name=args.region)
    outputs = stack_outputs(session.client("cloudformation"), args.stack)
    if "UserPoolId" not in outputs:
        parser.error(f"stack {args.stack!r} has no UserPoolId output: deploy this version first")
    status = create_admin(session.client("cognito-idp"), outputs["UserPoolId"], args.email)
    where = outputs.get("StaffUrl", "the staff page (the stack's StaffUrl output)")
    if status == "invited":
        print(
            f"{args.email} is invited as admin: Cognito e-mails them a temporary password. "
            f"Sign in on {where} and choose a new password."
        )
    else:
        print(
            f"{args.email} was in the pool already and is in the admin group; no new e-mail "
            f"was sent. Sign in on {where}."
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
