"""The web app's source layout and the local stack's serving of it (local_stack/web.py), without a server.

Layout (bulletproof-react): code by feature under web/src/features/<feature>; a feature imports shared
code (components, lib) and never another feature; shared code imports no feature and not the app; only
web/src/app composes features. And no request type is written by hand: the API's types come from the
generated schema only.
"""

from __future__ import annotations

import json
import re

import pytest

from local_stack import ROOT, tokens, web

SRC = ROOT / "web" / "src"
IMPORT = re.compile(r"""^\s*(?:import|export)\s[^;]*?from\s+["']([^"']+)["']""", re.M | re.S)
OWN = "http://127.0.0.1:3000"
LOOPBACK = {"Host": "127.0.0.1:3000", "Content-Type": "application/json"}


def imports_of(path):
    found = []
    for target in IMPORT.findall(path.read_text(encoding="utf-8")):
        if target.startswith("@/"):
            found.append(target[2:])
        elif target.startswith("."):
            found.append((path.parent / target).resolve().relative_to(SRC.resolve()).as_posix())
    return found


def sources():
    return [p for p in SRC.rglob("*.ts*") if p.name != "schema.d.ts"]


def test_features_import_no_other_feature_and_shared_code_imports_no_feature():
    assert sources(), "web/src is empty"
    for path in sources():
        here = path.relative_to(SRC).parts
        for target in imports_of(path):
            if here[0] == "features":
                assert not target.startswith("features/") or target.split("/")[1] == here[1], (path, target)
                assert not target.startswith("app"), (path, target)
            elif here[0] in ("components", "lib"):
                assert not target.startswith(("features", "app")), (path, target)


def test_the_api_types_come_from_the_generated_schema_only():
    client = (SRC / "lib" / "api" / "client.ts").read_text(encoding="utf-8")
    assert 'from "./schema"' in client and "openapi-fetch" in client
    for path in sources():
        text = path.read_text(encoding="utf-8")
        assert "fetch(" not in text or path.relative_to(SRC).as_posix() in (
            "lib/config.ts",  # /app/config.json, not the API
            "lib/auth/cognito.ts",  # the Cognito token endpoint, not the API
        ), path
        # a type named like the API's models (PatientOut, AppointmentCreate…) is the schema's own, aliased
        assert not re.search(r"\binterface\s+\w*(Out|Create|Update|Search)\b", text), path
        for rhs in re.findall(r"\btype\s+\w*(?:Out|Create|Update|Search)\s*=\s*([^;]+);", text):
            assert rhs.startswith('Schemas["'), (path, rhs)


def test_the_app_is_served_with_its_security_headers_and_config():
    status, headers, body = web.answer("GET", "/app/config.json", {}, b"", OWN)
    assert status == 200 and json.loads(body) == {"auth": "local", "api_url": "", "sign_in_url": "/_local/sign-in"}
    assert headers["Content-Security-Policy"] == web.CONTENT_SECURITY_POLICY
    assert headers["X-Frame-Options"] == "DENY" and headers["Referrer-Policy"] == "no-referrer"
    assert web.answer("GET", "/app", {}, b"", OWN)[:2] == (308, {"Location": "/app/", "Content-Length": "0"})


def test_no_file_outside_the_build_is_served(tmp_path, monkeypatch):
    (tmp_path / "index.html").write_text("<!doctype html>")
    monkeypatch.setattr(web, "DIST", tmp_path)
    assert web.answer("GET", "/app/", {}, b"", OWN)[0] == 200
    for path in ("/app/../README.md", "/app/%2e%2e/README.md", "/app/assets/../../Makefile", "/app/nothing.js"):
        assert web.answer("GET", path, {}, b"", OWN)[0] == 404, path


def test_the_local_token_is_minted_for_a_same_origin_json_post_to_a_loopback_host_only():
    status, _, body = web.answer("POST", "/_local/token", LOOPBACK, b'{"role": "patient", "id": "p-1"}', OWN)
    assert status == 200
    claims = tokens.verify("Bearer " + json.loads(body)["token"])
    assert claims["custom:patient_id"] == "p-1" and claims["iss"] == tokens.issuer("patient")
    refused = {
        "another host (DNS rebinding)": {**LOOPBACK, "Host": "evil.example:3000"},
        "another origin": {**LOOPBACK, "Origin": "https://evil.example"},
    }
    for why, headers in refused.items():
        assert web.answer("POST", "/_local/token", headers, b'{"role": "staff"}', OWN)[0] == 403, why
    plain = {"Host": "127.0.0.1:3000", "Content-Type": "text/plain"}  # a form or a no-preflight fetch
    assert web.answer("POST", "/_local/token", plain, b'{"role": "staff"}', OWN)[0] == 415
    assert web.answer("GET", "/_local/token", LOOPBACK, b"", OWN)[0] == 405
    assert web.answer("POST", "/_local/token", LOOPBACK, b'{"role": "doctor"}', OWN)[0] == 422  # no id


@pytest.mark.parametrize("path", ["/_local/sign-in", "/_local/sign-in.js"])
def test_the_sign_in_page_and_its_script_are_served_with_the_policy(path):
    status, headers, body = web.answer("GET", path, {}, b"", OWN)
    assert status == 200 and headers["Content-Security-Policy"] == web.CONTENT_SECURITY_POLICY
    assert b"<script>" not in body  # no inline script: the policy would refuse it
