"""`make first-admin` and `make pages-upload` against a deployed stack (moto): the first
admin is invited into the stack's pool and its admin group, and the pages' config names the
stack's API and sign-in, all read from the stack's outputs."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from moto import mock_aws

from devtools import first_admin, local_identity, upload_pages
from devtools.pages import SignIn, cognito_endpoint, content_security_policy, page_config

pytestmark = pytest.mark.unit

API = "https://abc123.execute-api.eu-central-1.amazonaws.com/api/"


def _deployed_stack(region: str = "us-east-1") -> dict[str, str]:
    """A pool made from infra/'s definition and a stack whose outputs name it, as deployed."""
    identity = local_identity.create(endpoint=None, region=region)
    s3 = boto3.client("s3", region_name=region)
    # S3 refuses us-east-1 as a location constraint: it is the default.
    elsewhere = {"CreateBucketConfiguration": {"LocationConstraint": region}}
    s3.create_bucket(Bucket="pages", **({} if region == "us-east-1" else elsewhere))
    outputs = {
        "UserPoolId": identity.pool_id,
        "UserPoolClientId": identity.client_id,
        "PagesBucketName": "pages",
        "EndpointURL": API,
        "StaffUrl": "https://d111.cloudfront.net/staff/",
    }
    template = {
        "Resources": {"Placeholder": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {key: {"Value": value} for key, value in outputs.items()},
    }
    boto3.client("cloudformation", region_name=region).create_stack(
        StackName="storepulse", TemplateBody=json.dumps(template)
    )
    return outputs


def _admin_groups(pool_id: str, email: str, region: str = "us-east-1") -> list[str]:
    idp = boto3.client("cognito-idp", region_name=region)
    groups = idp.admin_list_groups_for_user(UserPoolId=pool_id, Username=email)["Groups"]
    return [group["GroupName"] for group in groups]


def test_the_first_admin_is_invited_into_the_stacks_pool_and_admin_group(capsys):
    with mock_aws():
        outputs = _deployed_stack()

        code = first_admin.main(["Boss@Example.com", "--stack", "storepulse"])
        user = boto3.client("cognito-idp", region_name="us-east-1").admin_get_user(
            UserPoolId=outputs["UserPoolId"], Username="boss@example.com"
        )
        groups = _admin_groups(outputs["UserPoolId"], "boss@example.com")

    attributes = {a["Name"]: a["Value"] for a in user["UserAttributes"]}
    assert code == 0
    assert user["UserStatus"] == "FORCE_CHANGE_PASSWORD"  # signs in with the e-mailed password
    assert attributes["email"] == "boss@example.com"
    assert attributes["email_verified"] == "true"
    assert groups == ["admin"]
    printed = capsys.readouterr().out
    assert "invited as admin" in printed
    assert outputs["StaffUrl"] in printed


def test_running_it_again_changes_nothing_but_the_group(capsys):
    with mock_aws():
        outputs = _deployed_stack()
        idp = boto3.client("cognito-idp", region_name="us-east-1")
        pool = outputs["UserPoolId"]

        first = first_admin.create_admin(idp, pool, "boss@example.com")
        idp.admin_remove_user_from_group(
            UserPoolId=pool, Username="boss@example.com", GroupName="admin"
        )
        again = first_admin.main(["boss@example.com", "--stack", "storepulse"])
        groups = _admin_groups(pool, "boss@example.com")
        users = idp.list_users(UserPoolId=pool)["Users"]

    assert first == "invited"
    assert again == 0
    assert "in the pool already" in capsys.readouterr().out
    assert groups == ["admin"]
    assert len(users) == 1


def test_a_stack_without_a_pool_is_refused_by_name(capsys):
    with mock_aws():
        template = {"Resources": {"Placeholder": {"Type": "AWS::SNS::Topic"}}}
        boto3.client("cloudformation", region_name="us-east-1").create_stack(
            StackName="old", TemplateBody=json.dumps(template)
        )
        with pytest.raises(SystemExit) as refused:
            first_admin.main(["boss@example.com", "--stack", "old"])

    assert refused.value.code == 2
    assert "has no UserPoolId output" in capsys.readouterr().err


def test_pages_upload_writes_the_stacks_api_and_sign_in_into_config_json(monkeypatch, capsys):
    region = "eu-central-1"
    monkeypatch.setattr("sys.argv", ["upload_pages", "--stack", "storepulse", "--region", region])
    with mock_aws():
        outputs = _deployed_stack(region)

        upload_pages.main()
        s3 = boto3.client("s3", region_name=region)
        config = json.loads(s3.get_object(Bucket="pages", Key="config.json")["Body"].read())

    assert config == {
        "api_url": API.rstrip("/"),
        "cognito_endpoint": "https://cognito-idp.eu-central-1.amazonaws.com/",
        "user_pool_client_id": outputs["UserPoolClientId"],
        "region": region,
    }
    assert "s3://pages/config.json" in capsys.readouterr().out


def test_pages_upload_names_what_is_missing_without_a_stack(monkeypatch, capsys):
    monkeypatch.setattr("sys.argv", ["upload_pages", "--bucket", "pages", "--api", API])

    with pytest.raises(SystemExit):
        upload_pages.main()

    assert "set STACK=<stack name>, or CLIENT_ID" in capsys.readouterr().err


def test_the_sign_in_config_takes_only_an_absolute_http_endpoint():
    good = SignIn(cognito_endpoint("us-west-2"), "client", "us-west-2")
    config: dict[str, Any] = json.loads(page_config(API, good))

    assert config["cognito_endpoint"] == "https://cognito-idp.us-west-2.amazonaws.com/"
    assert cognito_endpoint("cn-north-1") == "https://cognito-idp.cn-north-1.amazonaws.com.cn/"
    with pytest.raises(ValueError, match="absolute"):
        page_config(API, SignIn("javascript:alert(1)", "client", "us-west-2"))


def test_the_csp_adds_only_the_cognito_origin():
    without = content_security_policy("https://api.example.com")
    with_pool = content_security_policy(
        "https://api.example.com", "https://cognito-idp.us-east-1.amazonaws.com"
    )

    assert "connect-src 'self' https://api.example.com;" in without
    assert (
        "connect-src 'self' https://api.example.com https://cognito-idp.us-east-1.amazonaws.com;"
        in with_pool
    )
    assert without.replace(" https://cognito-idp.us-east-1.amazonaws.com", "") == without
    assert with_pool.replace(" https://cognito-idp.us-east-1.amazonaws.com", "") == without
