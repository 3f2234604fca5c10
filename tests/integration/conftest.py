"""The local stack, started once per test run: `python -m local_stack serve --in-memory` on free
ports (DynamoDB Local in memory, no demo data), reached over real HTTP."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from local_stack import background, tokens


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
    log_file = tmp_path_factory.mktemp("local-stack") / "stack.log"
    try:
        running = background.start(log_file)
    except RuntimeError as error:
        pytest.fail(str(error))
    yield Stack(
        url=running.url, dynamodb_endpoint=running.dynamodb_endpoint, log_file=log_file, process=running.process
    )
    running.stop()
