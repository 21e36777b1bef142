"""Each function's role may do exactly what infra/permissions.yaml lists for it: nothing
more (no action, resource or secret beyond the list) and nothing less (the list is read off
the code, so a missing grant is a failure in AWS). docs/security.md tables the same list."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

pytestmark = pytest.mark.infra

ROOT = Path(__file__).resolve().parents[2]
PERMISSIONS: dict[str, dict[str, Any]] = yaml.safe_load(
    (ROOT / "infra" / "permissions.yaml").read_text()
)["functions"]

Grant = tuple[str, str]  # (action, resource as canonical JSON)

TABLE = {"Fn::GetAtt": ["Table", "Arn"]}
USER_POOL = {"Fn::GetAtt": ["UserPool", "Arn"]}
# Every SMS identity (phone number, pool, sender id) of the stack's account and region: End
# User Messaging picks one when no origination identity is configured.
SMS_IDENTITIES = {"Fn::Sub": "arn:${AWS::Partition}:sms-voice:${AWS::Region}:${AWS::AccountId}:*"}
# Chalice's own policy on every role it makes (functions/.chalice/policy-<stage>.json).
LOGS_ACTIONS = ("logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents")
LOGS = {(action, json.dumps("arn:*:logs:*:*:*")) for action in LOGS_ACTIONS}
# X-Ray has no resource-level permissions: "*" is the only resource these actions take.
XRAY = {
    (action, json.dumps("*")) for action in ("xray:PutTraceSegments", "xray:PutTelemetryRecords")
}
UNSCOPED_ACTIONS = {action for action, _ in XRAY}


def _resource(value: Any) -> str:
    if isinstance(value, dict) and isinstance(value.get("Fn::GetAtt"), str):
        value = {"Fn::GetAtt": value["Fn::GetAtt"].split(".", 1)}  # "Table.Arn" form
    return json.dumps(value, sort_keys=True)


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _grants(document: dict[str, Any]) -> set[Grant]:
    grants = set()
    for statement in _listed(document["Statement"]):
        assert not {"NotAction", "NotResource", "NotPrincipal"} & statement.keys(), statement
        if statement["Effect"] != "Allow":
            continue
        for action in _listed(statement["Action"]):
            for resource in _listed(statement["Resource"]):
                grants.add((action, _resource(resource)))
    return grants


def granted(resources: dict[str, Any], role: str) -> set[Grant]:
    """Everything any policy in the template gives this role: its inline policies and every
    AWS::IAM::Policy or ManagedPolicy that names it (a managed policy ARN is refused)."""
    properties = resources[role]["Properties"]
    assert not properties.get("ManagedPolicyArns"), f"{role} has managed policies attached"
    grants = set()
    for policy in properties.get("Policies", []):
        grants |= _grants(policy["PolicyDocument"])
    for resource in resources.values():
        is_policy = resource["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy")
        if is_policy and {"Ref": role} in resource["Properties"].get("Roles", []):
            grants |= _grants(resource["Properties"]["PolicyDocument"])
    return grants


def expected(entry: dict[str, Any], traced: bool) -> set[Grant]:
    """What permissions.yaml says a function may do, as (action, resource) pairs."""
    grants = set(LOGS) | (XRAY if traced else set())
    grants |= {(f"dynamodb:{action}", _resource(TABLE)) for action in entry["dynamodb"]}
    grants |= {
        ("dynamodb:Query", _resource({"Fn::Sub": f"${{Table.Arn}}/index/{index}"}))
        for index in entry["indexes"]
    }
    grants |= {
        ("secretsmanager:GetSecretValue", _resource({"Ref": name})) for name in entry["secrets"]
    }
    grants |= {("sns:Publish", _resource({"Ref": topic})) for topic in entry["topics"]}
    if entry["sms"]:
        grants.add(("sms-voice:SendTextMessage", _resource(SMS_IDENTITIES)))
    if entry["dead_letter_queue"]:
        queue = {"Fn::GetAtt": [entry["dead_letter_queue"], "Arn"]}
        grants.add(("sqs:SendMessage", _resource(queue)))
    grants |= {(f"cognito-idp:{action}", _resource(USER_POOL)) for action in entry["user_pool"]}
    subscriptions = entry["subscriptions"] or {"topics": [], "actions": []}
    grants |= {
        (f"sns:{action}", _resource({"Ref": topic}))
        for action in subscriptions["actions"]
        for topic in subscriptions["topics"]
    }
    stream = entry.get("stream")
    if stream:
        reads = ("DescribeStream", "GetRecords", "GetShardIterator", "ListStreams")
        streams = _resource({"Fn::Sub": "${Table.Arn}/stream/*"})
        grants |= {(f"dynamodb:{action}", streams) for action in reads}
        queue = {"Fn::GetAtt": [stream["on_failure"], "Arn"]}
        grants.add(("sqs:SendMessage", _resource(queue)))
    return grants


def functions_by_handler(resources: dict[str, Any]) -> dict[str, str]:
    return {
        resource["Properties"]["Handler"]: name
        for name, resource in resources.items()
        if resource["Type"] in ("AWS::Serverless::Function", "AWS::Lambda::Function")
    }


def role_of(resources: dict[str, Any], function: str) -> str:
    role = resources[function]["Properties"]["Role"]
    assert isinstance(role, dict), f"{function}: its role is not made by the template"
    assert "Fn::GetAtt" in role, f"{function}: its role is not made by the template"
    name = str(_listed(role["Fn::GetAtt"])[0]).split(".")[0]
    assert resources[name]["Type"] == "AWS::IAM::Role"
    return name


def test_every_function_is_listed_and_has_a_role_of_its_own(template):
    resources = template["Resources"]
    handlers = functions_by_handler(resources)
    roles = [role_of(resources, function) for function in handlers.values()]

    assert sorted(handlers) == sorted(entry["handler"] for entry in PERMISSIONS.values())
    assert sorted(handlers.values()) == sorted(PERMISSIONS)
    assert len(set(roles)) == len(roles), "a role shared by two functions grants both lists"


@pytest.mark.parametrize("function", sorted(PERMISSIONS))
def test_a_function_may_do_exactly_what_permissions_yaml_lists(template, function):
    resources = template["Resources"]
    entry = PERMISSIONS[function]
    name = functions_by_handler(resources)[entry["handler"]]
    traced = resources[name]["Properties"].get("Tracing") == "Active"

    grants = granted(resources, role_of(resources, name))
    wanted = expected(entry, traced)

    assert not grants - wanted, f"{function} may do more than listed: {sorted(grants - wanted)}"
    assert not wanted - grants, f"{function} is missing: {sorted(wanted - grants)}"


def test_no_role_has_a_wildcard_resource_except_for_x_ray(template):
    resources = template["Resources"]
    for function in functions_by_handler(resources).values():
        for action, resource in granted(resources, role_of(resources, function)):
            if json.loads(resource) == "*":
                assert action in UNSCOPED_ACTIONS, f"{function}: {action} on *"


def test_asynchronous_functions_send_failed_events_to_the_queue_their_role_may_use(template):
    resources = template["Resources"]
    for entry in PERMISSIONS.values():
        function = resources[functions_by_handler(resources)[entry["handler"]]]
        queue = function["Properties"].get("DeadLetterQueue")
        if entry["dead_letter_queue"] is None:
            assert queue is None
        else:
            assert queue == {
                "Type": "SQS",
                "TargetArn": {"Fn::GetAtt": [entry["dead_letter_queue"], "Arn"]},
            }


def _doc_rows() -> dict[str, list[str]]:
    text = (ROOT / "docs" / "security.md").read_text()
    section = text.split("## Permissions per function", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if line.startswith("|") and cells[0].startswith("`"):
            rows[cells[0].strip("`")] = cells[1:]
    return rows


def _names(cell: str) -> set[str]:
    return set(re.findall(r"`([^`]+)`", cell))


def test_docs_security_md_tables_the_same_permissions():
    rows = _doc_rows()

    assert sorted(rows) == sorted(PERMISSIONS)
    for function, entry in PERMISSIONS.items():
        _, table, indexes, secrets, topics, sms, queue = rows[function]
        assert _names(table) == set(entry["dynamodb"]), function
        assert _names(indexes) == set(entry["indexes"]), function
        assert _names(secrets) == set(entry["secrets"]), function
        assert _names(topics) == set(entry["topics"]), function
        assert sms.startswith("yes") == entry["sms"], function
        assert _names(queue) == ({entry["dead_letter_queue"]} - {None}), function


def _calls(module: str, client: str) -> set[str]:
    """The API actions a module calls on its boto3 client (`_idp().admin_get_user` ->
    AdminGetUser)."""
    source = (ROOT / "functions" / "chalicelib" / module).read_text()
    methods = re.findall(rf"\b{client}\(\)\.(\w+)", source)
    return {"".join(part.capitalize() for part in method.split("_")) for method in methods}


def test_the_apis_cognito_and_subscription_grants_are_the_calls_its_code_makes():
    entry = PERMISSIONS["APIHandler"]

    assert set(entry["user_pool"]) == _calls("directory.py", "_idp")
    assert set(entry["subscriptions"]["actions"]) == _calls("notify/subscriptions.py", "_sns")
    assert all(
        not other["user_pool"] and not other["subscriptions"]
        for name, other in PERMISSIONS.items()
        if name != "APIHandler"
    )


def test_docs_security_md_names_the_apis_cognito_and_subscription_grants():
    text = (ROOT / "docs" / "security.md").read_text()
    section = text.split("## Permissions per function", 1)[1].split("\n## ", 1)[0]
    entry = PERMISSIONS["APIHandler"]

    for action in [*entry["user_pool"], *entry["subscriptions"]["actions"]]:
        assert f"`{action}`" in section or f"`sns:{action}`" in section, action
