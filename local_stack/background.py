"""The local stack as a child process on free ports, for the integration tests and `make bench`:
`python -m local_stack serve --in-memory --quiet` (DynamoDB Local in memory, no demo data unless
asked), waited for until `/health` answers, stopped with Ctrl-C's signal. The stack picks its own
free ports (no window for another process to take them) and says which in a state file of its own."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import requests

from local_stack import ROOT, state


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


def start(
    log_file: Path,
    *,
    env: dict[str, str] | None = None,
    timeout_s: float = 120,
    root: Path = ROOT,
    in_memory: bool = True,
) -> BackgroundStack:
    """Start the stack and return once it answers /health; RuntimeError (with its output) if it can't.
    ``env`` adds variables (e.g. DYNAMODB_ENDPOINT to put it in front of another store); ``root`` runs
    another clone's stack, and ``in_memory=False`` on its persistent store (as `make run` does)."""
    child_env = {**os.environ, "SEED": "0", "LOCAL_LOG_FILE": str(log_file), "PYTHONUNBUFFERED": "1"}
    child_env.pop("DYNAMODB_ENDPOINT", None)
    child_env.pop("LOCAL_DYNAMODB_PORT", None)
    child_env.update(env or {})
    state_file = log_file.with_suffix(".state.json")
    store = ["--in-memory"] if in_memory else []
    began = time.monotonic()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "local_stack",
            "serve",
            *store,
            "--quiet",
            "--port",
            "0",
            "--state-file",
            str(state_file),
        ],
        cwd=root,
        env=child_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    running = None
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"the local stack exited:\n{process.stdout.read()}")
        running = running or state.read(state_file)
        try:
            if running and requests.get(running["url"] + "/health", timeout=30).status_code == 200:
                break
        except (requests.ConnectionError, requests.Timeout):
            pass
        if time.monotonic() - began > timeout_s:
            process.kill()
            raise RuntimeError(f"the local stack did not answer /health within {timeout_s:.0f} s")
        time.sleep(0.3)
    return BackgroundStack(
        url=running["url"],
        dynamodb_endpoint=running["dynamodb"],
        log_file=log_file,
        process=process,
        started_in_s=time.monotonic() - began,
    )
