"""Sign-in's rate limit per client in the packaged template: an AWS WAF web ACL on the user
pool whose one rule blocks a source address over SignInRequestsPerAddress requests in 5
minutes with 429, Retry-After and a body the staff page reads as "too many tries"; its
logging; and the docs giving the same numbers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytestmark = pytest.mark.infra

ROOT = Path(__file__).resolve().parents[2]


def _of_type(template, kind):
    return {n: r for n, r in template["Resources"].items() if r.get("Type") == kind}


def _rule(template):
    (acl,) = _of_type(template, "AWS::WAFv2::WebACL").values()
    (rule,) = acl["Properties"]["Rules"]
    return acl["Properties"], rule


def test_one_regional_web_acl_is_associated_with_the_user_pool(template):
    (name,) = _of_type(template, "AWS::WAFv2::WebACL")
    acl = template["Resources"][name]["Properties"]
    (association,) = _of_type(template, "AWS::WAFv2::WebACLAssociation").values()

    assert acl["Scope"] == "REGIONAL"  # a user pool takes regional web ACLs only
    assert acl["DefaultAction"] == {"Allow": {}}  # only the rate rule blocks
    assert association["Properties"] == {
        "ResourceArn": {"Fn::GetAtt": ["UserPool", "Arn"]},
        "WebACLArn": {"Fn::GetAtt": [name, "Arn"]},
    }


def test_its_rule_counts_requests_per_source_address_up_to_the_parameter(template):
    _, rule = _rule(template)
    statement = rule["Statement"]
    parameter = template["Parameters"]["SignInRequestsPerAddress"]

    assert list(statement) == ["RateBasedStatement"]  # every request, no scope-down
    assert statement["RateBasedStatement"] == {
        "AggregateKeyType": "IP",
        "EvaluationWindowSec": 300,
        "Limit": {"Ref": "SignInRequestsPerAddress"},
    }
    assert parameter["Type"] == "Number"
    assert parameter["Default"] == 100
    assert parameter["MinValue"] == 10  # WAF refuses a lower limit
    assert "5 minutes" in parameter["Description"]


def test_a_blocked_address_gets_429_with_retry_after_and_a_cognito_shaped_error(template):
    acl, rule = _rule(template)
    response = rule["Action"]["Block"]["CustomResponse"]
    headers = {h["Name"]: h["Value"] for h in response["ResponseHeaders"]}
    body = acl["CustomResponseBodies"][response["CustomResponseBodyKey"]]
    error = json.loads(body["Content"])
    window = rule["Statement"]["RateBasedStatement"]["EvaluationWindowSec"]
    page = (ROOT / "staff" / "cognito.js").read_text()

    assert response["ResponseCode"] == 429
    # The window: an address that stops is under the limit again within it.
    assert headers["Retry-After"] == str(window)
    # The page calls Cognito from another origin: without these it could not read the answer.
    assert headers["Access-Control-Allow-Origin"] == "*"
    assert headers["Access-Control-Expose-Headers"] == "Retry-After"
    assert body["ContentType"] == "APPLICATION_JSON"
    # Cognito's error shape; the staff page shows its "too many tries" message for this type.
    assert error["__type"] == "TooManyRequestsException"
    assert f'case "{error["__type"]}":' in page


def test_the_web_acl_logs_to_a_waf_log_group_kept_a_year(template):
    resources = template["Resources"]
    (acl_name,) = _of_type(template, "AWS::WAFv2::WebACL")
    (logging,) = _of_type(template, "AWS::WAFv2::LoggingConfiguration").values()
    (destination,) = logging["Properties"]["LogDestinationConfigs"]
    group_name = destination["Fn::Sub"].rsplit("${", 1)[1].rstrip("}")
    group = resources[group_name]["Properties"]

    assert logging["Properties"]["ResourceArn"] == {"Fn::GetAtt": [acl_name, "Arn"]}
    # WAF takes the group's ARN without the ":*" of its Arn attribute.
    assert destination["Fn::Sub"].endswith(":log-group:${" + group_name + "}")
    assert resources[group_name]["Type"] == "AWS::Logs::LogGroup"
    assert group["LogGroupName"]["Fn::Sub"].startswith("aws-waf-logs-")  # WAF's rule
    assert group["RetentionInDays"] == 365


def test_the_docs_give_the_limit_its_window_and_the_parameter(template):
    # Words as read, whatever the line breaks.
    security = " ".join((ROOT / "docs" / "security.md").read_text().split())
    readme = " ".join((ROOT / "README.md").read_text().split())
    default = template["Parameters"]["SignInRequestsPerAddress"]["Default"]

    assert f"{default} requests per source address in 5 minutes" in security
    assert "`SignInRequestsPerAddress`" in security
    assert "`Retry-After: 300`" in security
    assert f"`SignInRequestsPerAddress` (`{default}`)" in readme
