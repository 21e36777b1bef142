"""The pages are served by CloudFront with their security headers and the CSP that
devtools/pages.py defines, for the API the stack deploys."""

from __future__ import annotations

import pytest

from devtools.pages import api_origin, cognito_endpoint, content_security_policy

pytestmark = pytest.mark.infra

# The deployed API's origin, as CloudFormation substitutes it (the Sub's own variables).
API_ORIGIN = "https://${RestAPI}.execute-api.${AWS::Region}.${AWS::URLSuffix}"
# Where the staff page signs in: the region's Cognito endpoint (make pages-upload writes it
# into config.json as devtools.pages.cognito_endpoint(region)).
COGNITO_ORIGIN = "https://cognito-idp.${AWS::Region}.${AWS::URLSuffix}"


def _headers_policy(template):
    resources = template["Resources"]
    behaviour = resources["PagesDistribution"]["Properties"]["DistributionConfig"][
        "DefaultCacheBehavior"
    ]
    reference = behaviour["ResponseHeadersPolicyId"]
    assert isinstance(reference, dict), "a managed policy sets no CSP"
    policy = resources[reference["Ref"]]
    assert policy["Type"] == "AWS::CloudFront::ResponseHeadersPolicy"
    return policy["Properties"]["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]


def test_the_pages_csp_is_the_one_devtools_pages_defines_for_the_deployed_api(template):
    csp = _headers_policy(template)["ContentSecurityPolicy"]
    wanted = content_security_policy(API_ORIGIN, COGNITO_ORIGIN)

    assert csp["ContentSecurityPolicy"] == {"Fn::Sub": wanted}
    assert csp["Override"] is True


def test_the_csp_allows_the_cognito_endpoint_the_pages_config_names():
    for region in ("us-east-1", "eu-central-1"):
        endpoint = cognito_endpoint(region)
        substituted = COGNITO_ORIGIN.replace("${AWS::Region}", region).replace(
            "${AWS::URLSuffix}", "amazonaws.com"
        )

        assert api_origin(endpoint) == substituted


def test_the_pages_keep_the_other_security_headers(template):
    headers = _headers_policy(template)

    assert headers["StrictTransportSecurity"]["AccessControlMaxAgeSec"] >= 31536000
    assert headers["ContentTypeOptions"] == {"Override": True}
    assert headers["FrameOptions"] == {"FrameOption": "DENY", "Override": True}
    assert headers["ReferrerPolicy"]["ReferrerPolicy"] == "no-referrer"  # as the local pages server
    assert all(header["Override"] for header in headers.values())


def test_the_stack_outputs_the_api_url_the_pages_config_needs(template):
    # `make pages-upload` writes config.json from it (devtools/pages.py page_config).
    endpoint = template["Outputs"]["EndpointURL"]["Value"]["Fn::Sub"]

    assert endpoint.startswith(API_ORIGIN + "/")
