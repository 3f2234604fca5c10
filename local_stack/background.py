"""The local stack as a child process on free ports, for the integration tests and `make bench`:
`python -m local_stack serve --in-memory --quiet` (DynamoDB Local in memory, no demo data unless
asked), waited for until `/health` answers, stopped with Ctrl-C's signal."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import requests

from local_stack import ROOT
from local_stack.dynamodb import free_port


@dataclass
class BackgroundStack:
    url: str
    dynamodb_endpoint: str
    log_file: Path
    process: subprocess.Popen
    started_in_s: float

    def stop(self) -> None:
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()


def start(log_file: Path, *, env: dict[str, str] | None = None, timeout_s: float = 120) -> BackgroundStack:
    """Start the stack and return once it answers /health; RuntimeError (with its output) if it can't.
    ``env`` adds variables (e.g. DYNAMODB_ENDPOINT to put it in front of another store)."""
    port, dynamodb_port = free_port(), free_port()
    child_env = {**os.environ, "SEED": "0", "LOCAL_LOG_FILE": str(log_file), "PYTHONUNBUFFERED": "1"}
    child_env.pop("DYNAMODB_ENDPOINT", None)
    child_env.update(env or {})
    began = time.monotonic()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "local_stack",
            "serve",
            "--in-memory",
            "--quiet",
            "--port",
            str(port),
            "--dynamodb-port",
            str(dynamodb_port),
        ],
        cwd=ROOT,
        env=child_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"the local stack exited:\n{process.stdout.read()}")
        try:
            if requests.get(url + "/health", timeout=30).status_code == 200:
                break
        except (requests.ConnectionError, requests.Timeout):
            pass
        if time.monotonic() - began > timeout_s:
            process.kill()
            raise RuntimeError(f"the local stack did not answer /health within {timeout_s:.0f} s")
        time.sleep(0.3)
    endpoint = child_env.get("DYNAMODB_ENDPOINT") or f"http://127.0.0.1:{dynamodb_port}"
    return BackgroundStack(
        url=url, dynamodb_endpoint=endpoint, log_file=log_file, process=process, started_in_s=time.monotonic() - began
    )
