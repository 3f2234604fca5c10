"""infra/deploy_site.py: the app's config.json from a stack's outputs, and the upload of web/dist (assets
before pages, the pages revalidated on every load, the assets cached for good), against moto's S3."""

from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws

from infra import deploy_site

OUTPUTS = {
    "ApiUrl": "https://abc123.execute-api.eu-west-1.amazonaws.com/prod",
    "SiteUrl": "https://clinic.example.org/app/",
    "WorkforceSignInDomain": "https://clinic-x-staff.auth.eu-west-1.amazoncognito.com",
    "WorkforceUserPoolClientId": "workforce-client",
    "PatientSignInDomain": "https://clinic-x-patients.auth.eu-west-1.amazoncognito.com",
    "PatientUserPoolClientId": "patient-client",
}


def test_the_config_names_the_api_both_pools_and_the_callback():
    config = deploy_site.site_config(OUTPUTS)
    assert config == {
        "auth": "cognito",
        "api_url": OUTPUTS["ApiUrl"],
        "redirect_uri": "https://clinic.example.org/app/callback.html",
        "pools": {
            "workforce": {"domain": OUTPUTS["WorkforceSignInDomain"], "client_id": "workforce-client"},
            "patients": {"domain": OUTPUTS["PatientSignInDomain"], "client_id": "patient-client"},
        },
    }


def test_the_upload_puts_assets_first_pages_last_with_their_cache_rules(tmp_path):
    (tmp_path / "assets").mkdir()
    (tmp_path / "assets" / "main-abc.js").write_text("console.log(1)")
    (tmp_path / "index.html").write_text("<!doctype html>")
    (tmp_path / "callback.html").write_text("<!doctype html>")
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="site")
        keys = deploy_site.upload(s3, "site", tmp_path, deploy_site.site_config(OUTPUTS))
        assert keys == ["app/assets/main-abc.js", "app/callback.html", "app/index.html", "app/config.json"]
        asset = s3.get_object(Bucket="site", Key="app/assets/main-abc.js")
        page = s3.get_object(Bucket="site", Key="app/index.html")
        config = s3.get_object(Bucket="site", Key="app/config.json")
        assert asset["CacheControl"] == deploy_site.IMMUTABLE and "javascript" in asset["ContentType"]
        assert page["CacheControl"] == "no-cache" and page["ContentType"] == "text/html"
        assert json.loads(config["Body"].read())["auth"] == "cognito"


def test_an_unbuilt_app_is_not_uploaded(tmp_path):
    with pytest.raises(FileNotFoundError, match="make web"):
        deploy_site.upload(None, "site", tmp_path, {})
