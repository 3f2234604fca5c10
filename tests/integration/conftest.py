"""The local stack, started once per test run: `python -m local_stack serve --in-memory` on free
ports (DynamoDB Local in memory, no demo data), reached over real HTTP."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from local_stack import tokens
from local_stack.dynamodb import free_port

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Stack:
    url: str
    dynamodb_endpoint: str
    log_file: Path
    process: subprocess.Popen

    def token(self, role: str, record_id: str | None = None, **claims) -> str:
        return tokens.mint(role, record_id, **claims)

    def headers(self, role: str = "staff", record_id: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(role, record_id)}"}

    def log_lines(self) -> list[str]:
        return self.log_file.read_text(encoding="utf-8").splitlines()


@pytest.fixture(scope="session")
def stack(tmp_path_factory) -> Stack:
    port, dynamodb_port = free_port(), free_port()
    log_file = tmp_path_factory.mktemp("local-stack") / "stack.log"
    env = {**os.environ, "SEED": "0", "LOCAL_LOG_FILE": str(log_file), "PYTHONUNBUFFERED": "1"}
    env.pop("DYNAMODB_ENDPOINT", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "local_stack", "serve", "--in-memory", "--quiet", "--port", str(port),
         "--dynamodb-port", str(dynamodb_port)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        if process.poll() is not None:
            pytest.fail(f"the local stack exited:\n{process.stdout.read()}")
        try:
            if requests.get(url + "/health", timeout=30).status_code == 200:
                break
        except (requests.ConnectionError, requests.Timeout):
            pass
        if time.monotonic() > deadline:
            process.kill()
            pytest.fail("the local stack did not answer /health within 120 s")
        time.sleep(0.3)
    yield Stack(url=url, dynamodb_endpoint=f"http://127.0.0.1:{dynamodb_port}", log_file=log_file, process=process)
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
