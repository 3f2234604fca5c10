"""Shared by the template tests: the template as CloudFormation sees it after SAM's transform."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from local_stack import ROOT

SAM_PYTHON = ROOT / ".venv-tools" / "sam" / "bin" / "python"


@pytest.fixture(scope="session")
def translated() -> dict:
    """template.yaml as CloudFormation sees it after SAM's transform (SAM CLI's own translator)."""
    if not SAM_PYTHON.exists():
        pytest.fail("the SAM tool environment is missing: run `make test` (it creates .venv-tools)")
    script = (
        "import json, re, sys\n"
        "from samtranslator.translator.transform import transform\n"
        "from samtranslator.yaml_helper import yaml_parse\n"
        "text = open('template.yaml').read()\n"
        "text = re.sub(r'(CodeUri|ContentUri): \\S+', r'\\1: s3://bucket/key.zip', text)  # no packaging here\n"
        "class Policies:\n"
        "    def load(self): return {}\n"
        "print(json.dumps(transform(yaml_parse(text), {}, Policies())))\n"
    )
    env = {**os.environ, "AWS_DEFAULT_REGION": "us-east-1", "SAM_CLI_TELEMETRY": "0"}
    result = subprocess.run(
        [str(SAM_PYTHON), "-c", script], cwd=ROOT, capture_output=True, text=True, env=env, timeout=120
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout)["Resources"]
