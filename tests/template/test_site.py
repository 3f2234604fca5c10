"""The web app's site in template.yaml (infra/site.py): a private bucket that only this stack's CloudFront
distribution reads (origin access control), HTTPS only, strict security headers whose
Content-Security-Policy lets the pages connect to the API and the two sign-in domains only (the same
policy the local stack sends, but for connect-src), both pools' hosted sign-in with the authorization
code flow back to the site, and the API's CORS origin the site's."""

from __future__ import annotations

import re

from infra import site
from local_stack import template as tpl
from local_stack import web


def resources() -> dict:
    return tpl.load()["Resources"]


def props(logical_id: str) -> dict:
    return resources()[logical_id]["Properties"]


def directives(policy: str) -> dict[str, list[str]]:
    return {d.split()[0]: d.split()[1:] for d in (x.strip() for x in policy.split(";")) if d}


def test_the_site_bucket_is_private_and_read_by_this_distribution_only():
    bucket = props("SiteBucket")
    assert set(bucket["PublicAccessBlockConfiguration"].values()) == {True}
    assert bucket["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    assert bucket["VersioningConfiguration"] == {"Status": "Enabled"}
    statements = props("SiteBucketPolicy")["PolicyDocument"]["Statement"]
    allowed = [s for s in statements if s["Effect"] == "Allow"]
    assert len(allowed) == 1 and allowed[0]["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert allowed[0]["Action"] == "s3:GetObject"
    assert "distribution/${SiteDistribution}" in str(allowed[0]["Condition"]["StringEquals"]["aws:SourceArn"])
    denied = [s for s in statements if s["Effect"] == "Deny"]
    assert denied and denied[0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_the_distribution_serves_https_only_through_origin_access_control_with_the_headers_policy():
    config = props("SiteDistribution")["DistributionConfig"]
    (origin,) = config["Origins"]
    assert origin["OriginAccessControlId"] == {"Fn::GetAtt": ["SiteOriginAccessControl", "Id"]}
    assert origin["S3OriginConfig"] == {"OriginAccessIdentity": ""}  # no legacy identity: OAC only
    behavior = config["DefaultCacheBehavior"]
    assert behavior["ViewerProtocolPolicy"] == "https-only"
    assert behavior["AllowedMethods"] == ["GET", "HEAD"]
    assert behavior["ResponseHeadersPolicyId"] == {"Ref": "SiteHeadersPolicy"}
    oac = props("SiteOriginAccessControl")["OriginAccessControlConfig"]
    assert (oac["SigningBehavior"], oac["OriginAccessControlOriginType"]) == ("always", "s3")
    with_certificate = config["ViewerCertificate"]["Fn::If"][1]
    assert with_certificate["MinimumProtocolVersion"] == "TLSv1.2_2021"


def test_the_security_headers_are_strict_and_the_pages_connect_to_the_api_and_sign_in_only():
    headers = props("SiteHeadersPolicy")["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]
    assert headers["StrictTransportSecurity"]["AccessControlMaxAgeSec"] >= 31536000
    assert headers["FrameOptions"]["FrameOption"] == "DENY"
    assert headers["ReferrerPolicy"]["ReferrerPolicy"] == "no-referrer"
    assert headers["ContentTypeOptions"]["Override"] is True
    policy = headers["ContentSecurityPolicy"]["ContentSecurityPolicy"]["Fn::Sub"]
    found = directives(policy)
    assert found["default-src"] == ["'none'"] and found["script-src"] == ["'self'"] and found["style-src"] == ["'self'"]
    assert found["frame-ancestors"] == ["'none'"] and found["object-src"] == ["'none'"]
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy and "*" not in policy
    assert found["connect-src"] == [
        "'self'",
        "https://${ClinicApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}",
        "https://${WorkforceUserPoolDomain}.auth.${AWS::Region}.amazoncognito.com",
        "https://${PatientUserPoolDomain}.auth.${AWS::Region}.amazoncognito.com",
    ]
    # the local stack sends the same policy, its pages connecting to their own origin (where the API is)
    local = directives(web.CONTENT_SECURITY_POLICY)
    assert {k: v for k, v in local.items() if k != "connect-src"} == {
        k: v for k, v in found.items() if k != "connect-src"
    }
    assert local["connect-src"] == ["'self'"]


def test_both_pools_sign_in_with_the_code_flow_back_to_the_site_only():
    for pool, client in (("WorkforceUserPool", "WorkforceUserPoolClient"), ("UserPool", "UserPoolClient")):
        settings = props(client)
        assert settings["AllowedOAuthFlows"] == ["code"] and settings["AllowedOAuthFlowsUserPoolClient"] is True
        assert settings["GenerateSecret"] is False  # a browser keeps no secret: PKCE instead
        assert set(settings["AllowedOAuthScopes"]) == {"openid", "email"}
        (callback,) = settings["CallbackURLs"]
        assert callback["Fn::Join"][1][-1] == "/app/callback.html"
        assert str(callback["Fn::Join"][1][0]) == str(
            {
                "Fn::If": [
                    "HasCorsOrigin",
                    {"Ref": "CorsAllowedOrigin"},
                    {"Fn::Sub": "https://${SiteDistribution.DomainName}"},
                ]
            }
        )
        domains = [r for r in resources().values() if r["Type"] == "AWS::Cognito::UserPoolDomain"]
        assert any(d["Properties"]["UserPoolId"] == {"Ref": pool} for d in domains)


def test_the_api_answers_the_site_origin_with_every_method_the_app_uses():
    api = next(r for r in resources().values() if r["Type"] == "AWS::Serverless::Api")["Properties"]
    cors = api["Cors"]["Fn::If"][1]
    assert cors["AllowOrigin"] == {"Fn::Sub": "'${CorsAllowedOrigin}'"}
    methods = set(cors["AllowMethods"].strip("'").split(","))
    used = set(
        re.findall(
            r"api\(\)\.(GET|POST|PATCH|DELETE)\(", "".join(p.read_text() for p in web.ROOT.glob("web/src/**/*.ts"))
        )
    )
    assert used <= methods and "DELETE" in used, (used, methods)
    globals_ = tpl.load()["Globals"]["Function"]["Environment"]["Variables"]
    assert globals_["CORS_ALLOWED_ORIGIN"] == {"Ref": "CorsAllowedOrigin"}
    outputs = tpl.load()["Outputs"]
    assert {"SiteUrl", "SiteBucketName", "SiteDistributionId", "WorkforceSignInDomain", "PatientSignInDomain"} <= set(
        outputs
    )


def test_the_site_section_is_written_by_infra_site():
    text = (web.ROOT / "template.yaml").read_text(encoding="utf-8")
    assert site.AWS_CSP in text and text.count("AllowedOAuthFlows: [code]") == 2
