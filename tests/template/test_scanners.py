"""Security scanners, each from its own tool environment (.venv-tools, made by `make test`):
checkov on the template (no failed check; every suppression inline with its reason) and bandit
on the code (no medium or high finding)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from local_stack import template as tpl

ROOT = Path(__file__).resolve().parents[2]
TOOLS = ROOT / ".venv-tools"


def test_checkov_finds_no_failed_check():
    result = subprocess.run(
        [
            str(TOOLS / "checkov" / "bin" / "checkov"),
            "-f",
            "template.yaml",
            "--framework",
            "cloudformation",
            "--output",
            "json",
            "--quiet",
            "--compact",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    report = json.loads(result.stdout)
    failed = report["results"]["failed_checks"] if isinstance(report, dict) and "results" in report else []
    assert failed == [], [(c["check_id"], c["resource"]) for c in failed]
    assert report["summary"]["passed"] > 0


def test_every_checkov_suppression_gives_its_reason():
    for name, resource in tpl.load()["Resources"].items():
        for skip in ((resource.get("Metadata") or {}).get("checkov") or {}).get("skip", []):
            assert skip["id"].startswith("CKV") and len(skip.get("comment", "")) > 20, (name, skip)


def test_bandit_finds_nothing_medium_or_high():
    result = subprocess.run(
        [
            str(TOOLS / "sam" / "bin" / "bandit"),
            "-c",
            "pyproject.toml",
            "-r",
            "layers",
            "functions",
            "local_stack",
            "--severity-level",
            "medium",
            "-f",
            "json",
            "-q",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    report = json.loads(result.stdout)
    assert report["errors"] == []
    assert report["results"] == [], [(r["test_id"], r["filename"], r["line_number"]) for r in report["results"]]


def test_every_dependency_is_pinned_to_an_exact_version():
    files = [ROOT / "layers" / "shared" / "requirements.txt", *sorted((ROOT / "requirements").glob("*.txt"))]
    for path in files:
        for line in path.read_text().splitlines():
            line = line.split("#", 1)[0].strip()
            if not line or line.startswith(("-r", "-c")):
                continue
            assert "==" in line and not any(op in line for op in (">", "<", "~=", "*")), f"{path.name}: {line}"
