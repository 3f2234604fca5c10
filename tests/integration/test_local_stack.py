"""The local stack as a new user meets it: real HTTP, tokens checked at the gateway, problem+json
from the template's gateway responses, the generated OpenAPI document, and `make invoke`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from html.parser import HTMLParser
from pathlib import Path

import jwt
import pytest
import requests

from local_stack import tokens

ROOT = Path(__file__).resolve().parents[2]
ADA = {"given_name": "Ada", "family_name": "Lovelace", "birth_date": "1990-12-10", "sex": "female"}


def lines_for(stack, request_id: str) -> list[dict]:
    found = []
    for line in stack.log_lines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if request_id in (record.get("correlation_id"), record.get("requestId")):
            found.append(record)
    return found


def test_health_needs_no_token_and_reports_the_store(stack):
    response = requests.get(stack.url + "/health", timeout=30)
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response.headers["X-Request-Id"]


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "Bearer not-a-jwt",
        "Basic dXNlcjpwYXNz",
        "Bearer " + tokens.mint("staff", key="some-other-secret"),
        "Bearer " + tokens.mint("staff", ttl_seconds=-60),
        "Bearer " + jwt.encode({"cognito:groups": ["staff"], "exp": int(time.time()) + 60}, tokens.secret()),  # no sub
    ],
    ids=["missing", "malformed", "not-bearer", "wrong-signature", "expired", "no-sub"],
)
def test_a_bad_token_is_401_and_the_function_never_runs(stack, authorization):
    headers = {"Authorization": authorization} if authorization else {}
    response = requests.get(stack.url + "/patients", headers=headers, timeout=30)
    assert response.status_code == 401
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "UNAUTHENTICATED"
    time.sleep(0.2)  # let the log pump write
    records = lines_for(stack, response.headers["X-Request-Id"])
    assert records and all("function_name" not in r for r in records)  # only the gateway's access log


def test_unknown_route_is_a_404_problem(stack):
    response = requests.delete(stack.url + "/patients", headers=stack.headers(), timeout=30)
    assert response.status_code == 404
    assert response.json()["code"] == "NOT_FOUND"


def test_the_readme_patient_examples_work(stack):
    headers = stack.headers()
    created = requests.post(stack.url + "/patients", json=ADA, headers=headers, timeout=30)
    assert created.status_code == 201
    patient = created.json()
    assert created.headers["Location"] == f"/patients/{patient['id']}"
    assert isinstance(patient["age"], int)
    found = requests.post(
        stack.url + "/patients/search", json={"family_name_prefix": "love"}, headers=headers, timeout=30
    ).json()
    assert patient["id"] in [p["id"] for p in found["items"]]
    read = requests.get(f"{stack.url}/patients/{patient['id']}", headers=headers, timeout=30)
    assert read.json() == patient


def test_bad_input_is_a_problem_and_changes_nothing(stack):
    headers = {**stack.headers(), "Content-Type": "application/json"}
    before = requests.get(stack.url + "/patients?limit=100", headers=headers, timeout=30).json()["items"]
    malformed = requests.post(stack.url + "/patients", data="{not json", headers=headers, timeout=30)
    assert (malformed.status_code, malformed.json()["code"]) == (400, "MALFORMED_JSON")
    unknown = requests.post(stack.url + "/patients", json={**ADA, "ssn": "x"}, headers=headers, timeout=30)
    assert (unknown.status_code, unknown.json()["code"]) == (422, "VALIDATION_ERROR")
    assert "ssn" in [e["field"] for e in unknown.json()["errors"]]
    huge = requests.post(stack.url + "/patients", json={**ADA, "given_name": "A" * 70_000}, headers=headers, timeout=30)
    assert huge.status_code == 413
    after = requests.get(stack.url + "/patients?limit=100", headers=headers, timeout=30).json()["items"]
    assert after == before


def test_openapi_and_docs_are_served(stack):
    document = requests.get(stack.url + "/openapi.json", timeout=60).json()
    assert document["openapi"].startswith("3.1")
    assert "/appointments/{appointment_id}/cancel" in document["paths"]
    assert document["paths"]["/health"]["get"]["security"] == []
    docs = requests.get(stack.url + "/docs", timeout=300)  # the first request fetches swagger-ui-dist once
    assert docs.status_code == 200 and "/openapi.json" in docs.text


class _References(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        url = found.get("src") if tag == "script" else found.get("href") if tag == "link" else None
        if url:
            self.urls.append((tag, url))


def test_docs_works_offline_every_script_and_stylesheet_is_served_by_the_stack(stack):
    """Given /docs, Then every file its page loads is a local path the stack answers with the right type
    (Swagger UI from the pinned swagger-ui-dist, not from a CDN), and nothing else under /docs/assets is."""
    docs = requests.get(stack.url + "/docs", timeout=300)  # the first request fetches swagger-ui-dist once
    assert docs.status_code == 200 and docs.headers["Content-Type"].startswith("text/html")
    page = _References()
    page.feed(docs.text)
    assert {tag for tag, _ in page.urls} == {"script", "link"}, page.urls
    assert not [url for _, url in page.urls if "//" in url or not url.startswith("/docs/assets/")], page.urls
    assert "http" not in docs.text.replace("/openapi.json", "")
    types = {".js": "text/javascript", ".css": "text/css", ".png": "image/png"}
    for _, url in page.urls:
        asset = requests.get(stack.url + url, timeout=30)
        assert asset.status_code == 200, url
        assert asset.headers["Content-Type"].split(";")[0] == types[Path(url).suffix], (url, asset.headers)
        assert len(asset.content) > 100, url
    bundle = requests.get(stack.url + "/docs/assets/swagger-ui-bundle.js", timeout=30).text
    assert "SwaggerUIBundle" in bundle
    for other in ("/docs/assets/package.json", "/docs/assets/swagger-ui-bundle.js.map", "/docs/assets/index.html"):
        assert requests.get(stack.url + other, timeout=30).status_code == 404, other


def test_make_invoke_runs_one_function_on_an_event_file(stack):
    result = subprocess.run(
        [sys.executable, "-m", "local_stack", "invoke", "HealthFunction", "events/health.json"],
        cwd=ROOT,
        env={**os.environ, "DYNAMODB_ENDPOINT": stack.dynamodb_endpoint},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    response = json.loads(result.stdout)
    assert response["statusCode"] == 200
    assert json.loads(response["body"])["status"] == "ok"
