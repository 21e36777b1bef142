"""CloudFront serves the link survey (`/s/<store code>`) as the local pages server does: the
kiosk page, under the pages' headers and CSP. The rewrite function runs in Node here."""

from __future__ import annotations

import json
import subprocess

import pytest

from devtools.pages import LINK_PAGE, LINK_PATH

pytestmark = pytest.mark.infra


def _link_behaviour(template):
    config = template["Resources"]["PagesDistribution"]["Properties"]["DistributionConfig"]
    (behaviour,) = [b for b in config["CacheBehaviors"] if b["PathPattern"] == "/s/*"]
    return config, behaviour


def test_the_link_path_has_the_pages_headers_and_the_rewrite(template):
    config, behaviour = _link_behaviour(template)

    assert (
        behaviour["ResponseHeadersPolicyId"]
        == config["DefaultCacheBehavior"]["ResponseHeadersPolicyId"]
    )
    assert behaviour["ViewerProtocolPolicy"] == "redirect-to-https"
    (association,) = behaviour["FunctionAssociations"]
    assert association["EventType"] == "viewer-request"
    assert association["FunctionARN"] == {"Fn::GetAtt": ["LinkSurveyRewrite", "FunctionARN"]}


@pytest.mark.parametrize(
    "uri", ["/s/demo-store", "/s/demo-store/", "/s/x", "/s/Demo", "/s/a/b", "/s/../staff/"]
)
def test_the_rewrite_agrees_with_the_local_pages_server(template, uri):
    code = template["Resources"]["LinkSurveyRewrite"]["Properties"]["FunctionCode"]
    event = json.dumps({"request": {"uri": uri}})
    script = f"{code}\nconsole.log(JSON.stringify(handler({event})));"

    answer = json.loads(
        subprocess.run(["node", "-e", script], capture_output=True, text=True, check=True).stdout
    )

    if LINK_PATH.match(uri):
        assert answer == {"uri": LINK_PAGE}
    else:
        assert answer["statusCode"] == 404
