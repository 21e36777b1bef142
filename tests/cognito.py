"""A Cognito user pool on moto's server mode, as the local stack runs it: the tests sign
people in through the same calls as the staff page (USER_PASSWORD_AUTH) and get real RS256
ID tokens, checked by the app against the pool's JWKS.

One moto server per test process (`moto_server()`); each `LocalPool` is a fresh pool and
app client on it, so tests do not see each other's people.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import socket
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import boto3

REGION = "us-east-1"
CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@cache
def moto_server() -> str:
    """The endpoint of this process's moto server (started once, stopped at exit)."""
    from moto.server import ThreadedMotoServer

    port = _free_port()
    ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False).start()
    return f"http://127.0.0.1:{port}"


def _call(endpoint: str, target: str, body: dict[str, Any]) -> dict[str, Any]:
    """An unsigned Cognito call, as a browser makes it (sign-in needs no AWS credentials)."""
    request = urllib.request.Request(  # noqa: S310 - the test's own loopback server
        endpoint + "/",
        data=json.dumps(body).encode(),
        headers={
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": f"AWSCognitoIdentityProviderService.{target}",
        },
    )
    with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 - loopback
        result: dict[str, Any] = json.loads(answer.read())
        return result


@dataclass
class LocalPool:
    endpoint: str
    pool_id: str
    client_id: str
    passwords: dict[str, str] = field(default_factory=dict)

    @classmethod
    def create(cls, endpoint: str | None = None) -> LocalPool:
        endpoint = endpoint or moto_server()
        idp = cognito_client(endpoint)
        pool_id = idp.create_user_pool(
            PoolName=f"storepulse-{secrets.token_hex(4)}",
            UsernameAttributes=["email"],
            AutoVerifiedAttributes=["email"],
        )["UserPool"]["Id"]
        client_id = idp.create_user_pool_client(
            UserPoolId=pool_id,
            ClientName="staff-page",
            ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        )["UserPoolClient"]["ClientId"]
        return cls(endpoint, pool_id, client_id)

    @property
    def env(self) -> dict[str, str]:
        """The app's settings for this pool."""
        return {
            "STOREPULSE_COGNITO_USER_POOL_ID": self.pool_id,
            "STOREPULSE_COGNITO_CLIENT_ID": self.client_id,
            "STOREPULSE_COGNITO_ENDPOINT": self.endpoint,
        }

    def add_user(self, email: str, groups: Sequence[str] = ()) -> str:
        """A signed-up person with a permanent password (returned), in these groups."""
        idp = cognito_client(self.endpoint)
        password = f"Pw-{secrets.token_urlsafe(12)}1a"
        idp.admin_create_user(
            UserPoolId=self.pool_id,
            Username=email,
            UserAttributes=[{"Name": "email", "Value": email}],
            MessageAction="SUPPRESS",
        )
        idp.admin_set_user_password(
            UserPoolId=self.pool_id, Username=email, Password=password, Permanent=True
        )
        for group in groups:
            with contextlib.suppress(idp.exceptions.GroupExistsException):
                idp.create_group(UserPoolId=self.pool_id, GroupName=group)
            idp.admin_add_user_to_group(UserPoolId=self.pool_id, Username=email, GroupName=group)
        self.passwords[email] = password
        return password

    def sign_in(self, email: str, password: str | None = None) -> dict[str, Any]:
        """USER_PASSWORD_AUTH, as the staff page calls it: the answer's AuthenticationResult
        (IdToken, AccessToken, RefreshToken), or the challenge (NEW_PASSWORD_REQUIRED)."""
        answer = _call(
            self.endpoint,
            "InitiateAuth",
            {
                "AuthFlow": "USER_PASSWORD_AUTH",
                "ClientId": self.client_id,
                "AuthParameters": {
                    "USERNAME": email,
                    "PASSWORD": password or self.passwords[email],
                },
            },
        )
        return answer.get("AuthenticationResult") or answer

    def id_token(self, email: str, groups: Sequence[str] = ()) -> str:
        """An ID token of this person (created in these groups on first use)."""
        if email not in self.passwords:
            self.add_user(email, groups)
        return str(self.sign_in(email)["IdToken"])


def cognito_client(endpoint: str) -> Any:
    return boto3.client("cognito-idp", endpoint_url=endpoint, region_name=REGION, **CREDENTIALS)
