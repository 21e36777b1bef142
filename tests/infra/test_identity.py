"""The staff sign-in in the packaged template: the Cognito user pool (e-mail as username,
invited only), the staff page's app client (no secret, password and refresh flows, short ID
tokens, a refresh token for a shift), the `admin` group, the API's settings pointing at them,
the API role's Cognito and subscription grants on these resources only, and the local stack
creating its pool from the same definition."""

from __future__ import annotations

import pytest

from devtools import local_identity

pytestmark = pytest.mark.infra


def _of_type(template, kind):
    return {n: r for n, r in template["Resources"].items() if r.get("Type") == kind}


def test_one_pool_with_email_as_username_that_only_admins_add_people_to(template):
    (pool,) = _of_type(template, "AWS::Cognito::UserPool").values()
    properties = pool["Properties"]
    invitation = properties["AdminCreateUserConfig"]["InviteMessageTemplate"]
    message = invitation["EmailMessage"]["Fn::Sub"][0]

    assert properties["UsernameAttributes"] == ["email"]
    assert properties["UsernameConfiguration"] == {"CaseSensitive": False}
    assert properties["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True
    # Cognito refuses an invitation without the username and the temporary password.
    assert "{username}" in message
    assert "{####}" in message
    assert "${StaffPage}" in message  # the page's address, when StaffPageUrl is set
    assert properties["Policies"]["PasswordPolicy"]["MinimumLength"] >= 12
    assert properties["AccountRecoverySetting"]["RecoveryMechanisms"][0]["Name"] == (
        "verified_email"
    )
    assert properties["DeletionProtection"] == "ACTIVE"
    assert pool["DeletionPolicy"] == "Retain"


def test_the_invitation_links_the_page_without_naming_the_distribution(template):
    # The distribution's CSP names the API, whose function names the pool: the pool naming
    # the distribution would be a cycle, so StaffPageUrl (the StaffUrl output) is the link.
    properties = template["Resources"]["UserPool"]["Properties"]
    staff_page = properties["AdminCreateUserConfig"]["InviteMessageTemplate"]["EmailMessage"][
        "Fn::Sub"
    ][1]["StaffPage"]["Fn::If"]

    assert staff_page[0] == "StaffPageOnDistribution"
    assert "PagesDistribution" not in str(properties)
    assert "${StaffPageUrl}" in staff_page[2]["Fn::Sub"]


def test_the_staff_page_client_has_no_secret_and_only_the_flows_the_page_uses(template):
    (client,) = _of_type(template, "AWS::Cognito::UserPoolClient").values()
    properties = client["Properties"]
    units = properties["TokenValidityUnits"]

    assert properties["UserPoolId"] == {"Ref": "UserPool"}
    assert properties["GenerateSecret"] is False
    assert sorted(properties["ExplicitAuthFlows"]) == [
        "ALLOW_REFRESH_TOKEN_AUTH",
        "ALLOW_USER_PASSWORD_AUTH",
    ]
    assert properties["PreventUserExistenceErrors"] == "ENABLED"
    assert properties["EnableTokenRevocation"] is True
    assert (properties["IdTokenValidity"], units["IdToken"]) == (60, "minutes")
    # A shift (up to 12 hours) needs no second sign-in.
    assert (properties["RefreshTokenValidity"], units["RefreshToken"]) == (12, "hours")
    assert "CallbackURLs" not in properties  # no hosted UI, no OAuth redirect to guard


def test_the_admin_group_is_in_the_pool(template):
    groups = _of_type(template, "AWS::Cognito::UserPoolGroup").values()

    assert [(g["Properties"]["GroupName"], g["Properties"]["UserPoolId"]) for g in groups] == [
        ("admin", {"Ref": "UserPool"})
    ]


def test_the_api_checks_tokens_of_this_pool_and_client_itself(template):
    resources = template["Resources"]
    api = resources["APIHandler"]["Properties"]["Environment"]["Variables"]
    regional = template["Globals"]["Function"]["Environment"]["Variables"]
    others = [
        resource["Properties"]["Environment"]["Variables"]
        for name, resource in resources.items()
        if resource["Type"] == "AWS::Serverless::Function" and name != "APIHandler"
    ]

    assert api["STOREPULSE_COGNITO_USER_POOL_ID"] == {"Ref": "UserPool"}
    assert api["STOREPULSE_COGNITO_CLIENT_ID"] == {"Ref": "StaffPageClient"}
    # An ID token's issuer names the pool's region; the app is told the stack's.
    assert regional["STOREPULSE_REGION"] == {"Ref": "AWS::Region"}
    assert all("STOREPULSE_COGNITO_USER_POOL_ID" not in variables for variables in others)
    # No authoriser in API Gateway: the app verifies the ID tokens (see UserPool's comment).
    assert not _of_type(template, "AWS::ApiGateway::Authorizer")
    assert "Auth" not in resources["RestAPI"]["Properties"]


def test_only_the_api_may_manage_people_and_subscriptions_and_only_in_this_pool(template):
    resources = template["Resources"]
    statements = {
        name: resource["Properties"]["PolicyDocument"]["Statement"]
        for name, resource in resources.items()
        if resource["Type"] == "AWS::IAM::Policy"
    }
    cognito, subscribing = {}, {}
    for name, listed in statements.items():
        for statement in listed:
            actions = statement["Action"] if isinstance(statement["Action"], list) else []
            if any(a.startswith("cognito-idp:") for a in actions):
                cognito[name] = statement
            if any(a in ("sns:Subscribe", "sns:Unsubscribe") for a in actions):
                subscribing[name] = statement

    assert list(cognito) == ["ApiHandlerAccess"]
    assert cognito["ApiHandlerAccess"]["Resource"] == {"Fn::GetAtt": ["UserPool", "Arn"]}
    assert all(
        a.startswith("cognito-idp:Admin")
        or a in ("cognito-idp:CreateGroup", "cognito-idp:ListUsers")
        for a in cognito["ApiHandlerAccess"]["Action"]
    )
    assert list(subscribing) == ["ApiHandlerAccess"]
    assert subscribing["ApiHandlerAccess"]["Resource"] == [
        {"Ref": "StoreAlertsTopic"},
        {"Ref": "CallbacksTopic"},
    ]


def test_the_stack_outputs_what_pages_upload_and_first_admin_read(template):
    outputs = template["Outputs"]

    assert outputs["UserPoolId"]["Value"] == {"Ref": "UserPool"}
    assert outputs["UserPoolClientId"]["Value"] == {"Ref": "StaffPageClient"}


def test_the_local_stack_makes_its_pool_client_and_groups_from_the_deployed_ones(template):
    resources = template["Resources"]
    pool, client = resources["UserPool"]["Properties"], resources["StaffPageClient"]["Properties"]

    assert local_identity.pool_definition() == {
        key: pool[key] for key in local_identity.POOL_SETTINGS if key in pool
    }
    assert local_identity.pool_definition()["UsernameAttributes"] == ["email"]
    assert local_identity.client_definition() == {
        key: client[key] for key in local_identity.CLIENT_SETTINGS if key in client
    }
    assert [g["GroupName"] for g in local_identity.group_definitions()] == ["admin"]
    assert local_identity.topic_names() == {
        "StoreAlertsTopic": resources["StoreAlertsTopic"]["Properties"]["TopicName"],
        "CallbacksTopic": resources["CallbacksTopic"]["Properties"]["TopicName"],
    }
