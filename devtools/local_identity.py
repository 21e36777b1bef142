"""Amazon Cognito and SNS for `make run`: moto in server mode on loopback, with the user
pool, the staff page's app client, the `admin` group and the two notification topics as
infra/resources.yaml deploys them (the settings are read from the template, as the local
table is), and demo people with permanent passwords.

moto keeps everything in memory: each start makes the pool afresh (a new pool id and client
id, written to demo.json), with the same demo people and passwords. The staff page signs in
against it through the same unsigned Cognito calls as in AWS; the API checks its ID tokens
against the pool's JWKS on this server. SNS here is only where people's notification choices
are subscribed: what the stack publishes still goes to the outbox (the notifications log).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import boto3

from devtools import dynamodb_local

REGION = "us-east-1"
CREDENTIALS = {"aws_access_key_id": "local", "aws_secret_access_key": "local"}

# The parts of the deployed pool and client that decide how people sign in (the rest names
# stack resources: the invitation e-mail, its sender, deletion protection).
POOL_SETTINGS = (
    "UsernameAttributes",
    "UsernameConfiguration",
    "AutoVerifiedAttributes",
    "Policies",
    "AccountRecoverySetting",
    "MfaConfiguration",
)
CLIENT_SETTINGS = (
    "ClientName",
    "GenerateSecret",
    "ExplicitAuthFlows",
    "PreventUserExistenceErrors",
    "EnableTokenRevocation",
    "AuthSessionValidity",
    "IdTokenValidity",
    "AccessTokenValidity",
    "RefreshTokenValidity",
    "TokenValidityUnits",
)


@dataclass(frozen=True)
class Person:
    role: str  # what demo.json calls them: <role>_email, <role>_password
    email: str
    groups: tuple[str, ...]


@dataclass
class LocalIdentity:
    endpoint: str  # moto's server: Cognito's and SNS's endpoint ("": moto in-process, tests)
    pool_id: str
    client_id: str
    topics: dict[str, str]  # the template's topic resource -> its ARN on moto
    passwords: dict[str, str] = field(default_factory=dict)  # e-mail -> password
    server: Any = None

    def env(self) -> dict[str, str]:
        """The API's settings for this pool and these topics (publishing stays the outbox,
        which takes the ARNs as topic names)."""
        return {
            "STOREPULSE_COGNITO_USER_POOL_ID": self.pool_id,
            "STOREPULSE_COGNITO_CLIENT_ID": self.client_id,
            "STOREPULSE_COGNITO_ENDPOINT": self.endpoint,
            "STOREPULSE_SNS_ENDPOINT": self.endpoint,
            "STOREPULSE_ALERTS_TOPIC": self.topics["StoreAlertsTopic"],
            "STOREPULSE_CALLBACKS_TOPIC": self.topics["CallbacksTopic"],
        }

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()


def _resources() -> dict[str, Any]:
    return dynamodb_local.template_resources()


def pool_definition() -> dict[str, Any]:
    """CreateUserPool arguments for the pool infra/ deploys (how people sign in)."""
    properties = _resources()["UserPool"]["Properties"]
    return {key: properties[key] for key in POOL_SETTINGS if key in properties}


def client_definition() -> dict[str, Any]:
    """CreateUserPoolClient arguments for the staff page's client infra/ deploys."""
    properties = _resources()["StaffPageClient"]["Properties"]
    return {key: properties[key] for key in CLIENT_SETTINGS if key in properties}


def group_definitions() -> list[dict[str, Any]]:
    """CreateGroup arguments for the groups infra/ deploys (`admin`)."""
    return [
        {key: value for key, value in resource["Properties"].items() if key != "UserPoolId"}
        for resource in _resources().values()
        if resource.get("Type") == "AWS::Cognito::UserPoolGroup"  # not Chalice's extensions
    ]


def topic_names() -> dict[str, str]:
    """The people-facing topics' names as deployed (the resource name -> TopicName)."""
    resources = _resources()
    topics = ("StoreAlertsTopic", "CallbacksTopic")
    return {name: resources[name]["Properties"]["TopicName"] for name in topics}


def client(service: str, endpoint: str | None, region: str = REGION) -> Any:
    return boto3.client(service, endpoint_url=endpoint or None, region_name=region, **CREDENTIALS)


def start(people: Sequence[Person], passwords: dict[str, str], port: int = 0) -> LocalIdentity:
    """moto's server on 127.0.0.1:`port` (0: a free one) with the pool, the client, the
    groups, the topics and `people` (signed up: `passwords[person.role]` is permanent)."""
    from moto.server import ThreadedMotoServer

    # werkzeug logs every request moto serves: not for the stack's console.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    host, bound = server.get_host_and_port()
    endpoint = f"http://{host}:{bound}"
    try:
        identity = create(endpoint)
        identity.server = server
        for person in people:
            add_person(identity, person, passwords[person.role])
    except BaseException:
        server.stop()
        raise
    return identity


def create(endpoint: str | None, region: str = REGION) -> LocalIdentity:
    """The deployed pool, client, groups and topics, made on the moto server at `endpoint`
    (None: moto in this process, as unit tests run it)."""
    idp = client("cognito-idp", endpoint, region)
    pool_id = idp.create_user_pool(PoolName="storepulse-local-people", **pool_definition())[
        "UserPool"
    ]["Id"]
    client_id = idp.create_user_pool_client(UserPoolId=pool_id, **client_definition())[
        "UserPoolClient"
    ]["ClientId"]
    for group in group_definitions():
        idp.create_group(UserPoolId=pool_id, **group)
    sns = client("sns", endpoint, region)
    topics = {
        resource: sns.create_topic(Name=name)["TopicArn"]
        for resource, name in topic_names().items()
    }
    return LocalIdentity(endpoint or "", pool_id, client_id, topics)


def add_person(identity: LocalIdentity, person: Person, password: str) -> None:
    """A person who has signed up already (no invitation, no new-password step), in their
    groups (each made on first use, as the people routes make them)."""
    idp = client("cognito-idp", identity.endpoint)
    idp.admin_create_user(
        UserPoolId=identity.pool_id,
        Username=person.email,
        UserAttributes=[
            {"Name": "email", "Value": person.email},
            {"Name": "email_verified", "Value": "true"},
        ],
        MessageAction="SUPPRESS",
    )
    idp.admin_set_user_password(
        UserPoolId=identity.pool_id, Username=person.email, Password=password, Permanent=True
    )
    for group in person.groups:
        with contextlib.suppress(idp.exceptions.GroupExistsException):
            idp.create_group(UserPoolId=identity.pool_id, GroupName=group)
        idp.admin_add_user_to_group(
            UserPoolId=identity.pool_id, Username=person.email, GroupName=group
        )
    identity.passwords[person.email] = password
