"""The OpenAPI document passes Redocly's lint: Redocly CLI (tools/openapi-lint, pinned and locked) with its
recommended ruleset as it is (tools/openapi-lint/redocly.yaml), 0 errors and 0 warnings. And what the
document says that no function's code shows (API Gateway's 429) is what template.yaml configures."""

from __future__ import annotations

import copy
import fcntl
import json
import os
import shutil
import subprocess
import sys

import pytest

from local_stack import ROOT
from local_stack import template as tpl

LINT_DIR = ROOT / "tools" / "openapi-lint"
REDOCLY = LINT_DIR / "node_modules" / ".bin" / "redocly"
STAMP = LINT_DIR / "node_modules" / ".installed"  # the Makefile's stamp too


def _ensure_installed() -> None:
    """npm ci into tools/openapi-lint when `make test`'s stamp is missing or stale (a lone test on a clean
    checkout); a file lock keeps parallel test processes from installing over each other."""

    def fresh() -> bool:
        inputs = (LINT_DIR / "package.json", LINT_DIR / "package-lock.json")
        return STAMP.exists() and all(STAMP.stat().st_mtime >= p.stat().st_mtime for p in inputs)

    if fresh():
        return
    npm = shutil.which("npm")
    if npm is None:
        pytest.fail("npm is not on PATH: Redocly CLI needs node >= 20.19 and npm")
    with open(LINT_DIR / ".install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not fresh():
            subprocess.run(
                [npm, "ci", "--no-audit", "--no-fund"], cwd=LINT_DIR, check=True, capture_output=True, timeout=300
            )
            STAMP.touch()


def lint(document: dict, folder) -> dict:
    """Redocly's JSON report on a document: {"totals": {"errors", "warnings", ...}, "problems": [...]}."""
    _ensure_installed()
    path = folder / "openapi.json"
    path.write_text(json.dumps(document, indent=2), encoding="utf-8")
    env = {**os.environ, "REDOCLY_TELEMETRY": "off", "REDOCLY_SUPPRESS_UPDATE_NOTICE": "true"}
    result = subprocess.run(
        [
            str(REDOCLY),
            "lint",
            "--config",
            str(LINT_DIR / "redocly.yaml"),
            "--format",
            "json",
            "--max-problems",
            "1000",
            str(path),
        ],
        cwd=LINT_DIR,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    try:
        return json.loads(result.stdout)
    except ValueError:
        pytest.fail(f"redocly lint gave no JSON report (exit {result.returncode}):\n{result.stdout}\n{result.stderr}")


def findings(report: dict) -> list[str]:
    return [
        f"{p['severity']} {p['ruleId']} at {p['location'][0]['pointer']}: {p['message']}" for p in report["problems"]
    ]


@pytest.fixture(scope="module")
def document() -> dict:
    """build()'s document, made in a child process (building imports every function module, which must not
    happen in this process before the handler tests set up their fake AWS; see tests/integration/test_fuzz.py)."""
    out = subprocess.run(
        [sys.executable, "-m", "local_stack", "openapi"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return json.loads(out.stdout)


def test_redocly_recommended_lint_finds_no_error_and_no_warning(document, tmp_path):
    report = lint(document, tmp_path)
    assert report["totals"]["errors"] == 0 and report["totals"]["warnings"] == 0, findings(report)


def test_the_lint_is_real_it_reports_what_the_generator_fixed(document, tmp_path):
    """Without the tag descriptions and /health's 4xx answer, the same lint warns (so a clean report means
    something, and the report is read right)."""
    broken = copy.deepcopy(document)
    for tag in broken["tags"]:
        tag.pop("description", None)
    broken["paths"]["/health"]["get"]["responses"] = {
        status: answer
        for status, answer in broken["paths"]["/health"]["get"]["responses"].items()
        if not status.startswith("4")
    }
    rules = {p["ruleId"] for p in lint(broken, tmp_path)["problems"]}
    assert {"tag-description", "operation-4xx-response"} <= rules, rules


def test_the_documented_429_is_the_templates_throttled_gateway_response(document):
    api = next(r for r in tpl.load()["Resources"].values() if r["Type"] == "AWS::Serverless::Api")
    throttled = api["Properties"]["GatewayResponses"]["THROTTLED"]
    assert str(throttled["StatusCode"]) == "429"
    headers = throttled["ResponseParameters"]["Headers"]
    assert headers["Content-Type"] == "'application/problem+json'" and "Retry-After" in headers
    body = json.loads(throttled["ResponseTemplates"]["application/json"])
    assert {"type", "title", "status", "code"} <= set(body) and body["status"] == 429
    for path, item in document["paths"].items():
        for method, operation in item.items():
            answer = operation["responses"]["429"]
            assert set(answer["headers"]) == {"X-Request-Id", "Retry-After"}, (method, path)
            assert list(answer["content"]) == ["application/problem+json"], (method, path)


def test_every_schema_has_a_name_of_its_own(document):
    """Two models of one class name (say, a resource and an appointment's resource, both ``ResourceOut``)
    come out as module-qualified components (``clinic__models__resources__ResourceOut``), which client
    generators refuse ("duplicate models"): every component is named by its class alone."""
    names = list(document["components"]["schemas"])
    assert [name for name in names if "__" in name] == []
