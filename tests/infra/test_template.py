"""`chalice package` merged with infra/ makes a template that cfn-lint accepts."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from devtools import dynamodb_local

pytestmark = pytest.mark.infra


def test_cfn_lint_accepts_the_packaged_template(packaged):
    result = subprocess.run(
        [str(Path(sys.executable).with_name("cfn-lint")), str(packaged)],
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr


def test_every_function_gets_the_table_secrets_and_provider_from_the_template(template):
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    # Lambda functions (the CloudFront Function of the link survey is not one)
    lambdas = ("AWS::Serverless::Function", "AWS::Lambda::Function")
    functions = [r for r in template["Resources"].values() if r["Type"] in lambdas]

    assert variables["STOREPULSE_TABLE_NAME"] == {"Ref": "Table"}
    assert variables["STOREPULSE_TOKEN_SECRET_NAME"] == {"Ref": "TokenSigningKey"}
    assert variables["STOREPULSE_PHONE_HMAC_SECRET_NAME"] == {"Ref": "PhoneHmacKey"}
    assert variables["STOREPULSE_SMS_PROVIDER"] == {"Ref": "SmsProvider"}
    # API, inbound SMS (SNS), scheduled invitations, aggregation, rebuild, callback follow-up,
    # weekly digest, callback flagging (the table's stream), webhook deliveries
    assert len(functions) == 9
    for function in functions:
        function_variables = function["Properties"]["Environment"]["Variables"]
        assert function_variables["STOREPULSE_SECRETS_BACKEND"] == "secretsmanager"


def test_inbound_sms_is_subscribed_to_the_topic_the_template_creates(template):
    resources = template["Resources"]
    topic = resources["InboundSmsTopic"]["Properties"]["TopicName"]
    event = resources["InboundSms"]["Properties"]["Events"]["InboundSmsSnsSubscription"]

    assert topic in event["Properties"]["Topic"]["Fn::Sub"]


def test_local_tables_are_created_from_the_deployed_definition(template):
    deployed = template["Resources"]["Table"]["Properties"]
    local = dynamodb_local.table_definition()

    assert local["KeySchema"] == deployed["KeySchema"]
    assert local["GlobalSecondaryIndexes"] == deployed["GlobalSecondaryIndexes"]
    assert deployed["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}


def test_the_pages_bucket_is_private_and_read_only_by_the_distribution(template):
    resources = template["Resources"]
    bucket = resources["PagesBucket"]["Properties"]
    (statement,) = resources["PagesBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    origin = resources["PagesDistribution"]["Properties"]["DistributionConfig"]["Origins"][0]
    linking = [resources["AggregateSatisfaction"], resources["FollowUpCallbacks"]]
    staff_urls = [
        f["Properties"]["Environment"]["Variables"]["STOREPULSE_STAFF_URL"] for f in linking
    ]

    assert all(bucket["PublicAccessBlockConfiguration"].values())
    assert statement["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert statement["Action"] == "s3:GetObject"
    assert "PagesDistribution" in statement["Condition"]["StringEquals"]["AWS:SourceArn"]["Fn::Sub"]
    assert origin["OriginAccessControlId"] == {"Fn::GetAtt": ["PagesOriginAccessControl", "Id"]}
    # Notifications (from the two functions that send them) link to the staff page on the
    # distribution unless a URL is given.
    assert all(url["Fn::If"][0] == "StaffPageOnDistribution" for url in staff_urls)


def test_callbacks_are_flagged_from_the_table_stream_with_retries_and_a_filter(template):
    resources = template["Resources"]
    stream = resources["Table"]["Properties"]["StreamSpecification"]
    events = resources["FlagCallbacks"]["Properties"]["Events"]
    (source,) = events.values()
    settings = source["Properties"]

    assert stream == {"StreamViewType": "NEW_IMAGE"}  # the filter reads the new image
    assert source["Type"] == "DynamoDB"
    assert settings["Stream"] == {"Fn::GetAtt": ["Table", "StreamArn"]}  # not Chalice's stand-in
    assert settings["StartingPosition"] == "LATEST"
    assert settings["MaximumBatchingWindowInSeconds"] == 0  # seconds matter: no waiting
    assert settings["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert settings["DestinationConfig"]["OnFailure"]["Destination"] == {
        "Fn::GetAtt": ["FailedEventsQueue", "Arn"]
    }
    assert len(settings["FilterCriteria"]["Filters"]) == 2
