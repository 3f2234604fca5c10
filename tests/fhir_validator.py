"""A real FHIR R4 validator for the tests: tools/fhir-validator/validate.mjs (Medplum's validator plus the
checks it misses), run as one node process per test session and spoken to one JSON line at a time.

    from tests.fhir_validator import fhir_validator
    fhir_validator().assert_valid(resource)      # or the `fhir_validator` fixture in tests/conftest.py
    issues = fhir_validator().validate(resource)  # [] when valid, else ["<path>: <message>", ...]

The node packages are installed with `npm ci` on first use when the `make` stamp is missing or older than
package.json / package-lock.json (as `make test` does), so a single test also runs on a clean checkout.
"""

from __future__ import annotations

import atexit
import fcntl
import itertools
import json
import queue
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path

TOOL_DIR = Path(__file__).resolve().parent.parent / "tools" / "fhir-validator"
STAMP = TOOL_DIR / "node_modules" / ".installed"  # the Makefile's stamp too
START_TIMEOUT_S = 60  # indexing the definitions takes about a second; a loaded CI machine gets room
ANSWER_TIMEOUT_S = 30


class FhirValidatorError(RuntimeError):
    """The validator could not be installed, started or asked (not: the resource is invalid)."""


def _require(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        raise FhirValidatorError(f"{tool} is not on PATH: the FHIR validator needs node >= 20 and npm")
    return path


def ensure_installed() -> None:
    """npm ci into tools/fhir-validator when the stamp is missing or stale; a file lock keeps parallel
    test processes from installing over each other."""

    def fresh() -> bool:
        inputs = (TOOL_DIR / "package.json", TOOL_DIR / "package-lock.json")
        return STAMP.exists() and all(STAMP.stat().st_mtime >= p.stat().st_mtime for p in inputs)

    if fresh():
        return
    npm = _require("npm")
    with open(TOOL_DIR / ".install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if fresh():
            return
        done = subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=TOOL_DIR, capture_output=True, text=True)
        if done.returncode != 0:
            raise FhirValidatorError(f"npm ci failed in {TOOL_DIR}:\n{done.stdout}\n{done.stderr}")
        STAMP.touch()


class FhirValidator:
    """One validator process; thread-safe. Start it with start() or let the first validate() do it."""

    def __init__(self) -> None:
        self._process: subprocess.Popen[str] | None = None
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._stderr = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 - the validator's stderr, open while it runs

    def start(self) -> None:
        with self._lock:
            if self._process is None:
                self._start()

    def _start(self) -> None:
        ensure_installed()
        self._process = subprocess.Popen(
            [_require("node"), "validate.mjs"],
            cwd=TOOL_DIR,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
            encoding="utf-8",
            bufsize=1,
        )
        # A reader thread, so that a dead or stuck process ends in a timeout with its stderr, not a hang.
        threading.Thread(target=self._read, args=(self._process.stdout,), daemon=True).start()
        if json.loads(self._next_line(START_TIMEOUT_S, "start")) != {"ready": True}:
            raise self._failure("did not say it was ready")

    def _read(self, stdout) -> None:
        for line in stdout:
            self._lines.put(line)
        self._lines.put(None)  # end of output: the process has gone

    def _next_line(self, timeout: float, doing: str) -> str:
        try:
            line = self._lines.get(timeout=timeout)
        except queue.Empty:
            raise self._failure(f"no answer within {timeout} s ({doing})") from None
        if line is None:
            raise self._failure(f"exited ({doing})")
        return line

    def _failure(self, what: str) -> FhirValidatorError:
        process, self._process = self._process, None
        if process is not None:
            process.kill()
            process.wait()
        self._stderr.seek(0)
        return FhirValidatorError(f"the FHIR validator {what}; its stderr:\n{self._stderr.read()[-4000:]}")

    def validate(self, resource: dict) -> list[str]:
        """The validator's issues for one resource (with everything nested in it); [] when it is valid."""
        with self._lock:
            if self._process is None:
                self._start()
            request_id = next(self._ids)
            try:
                self._process.stdin.write(json.dumps({"id": request_id, "resource": resource}) + "\n")
                self._process.stdin.flush()
            except BrokenPipeError:
                raise self._failure("closed its input") from None
            answer = json.loads(self._next_line(ANSWER_TIMEOUT_S, "validating"))
        if answer.get("id") != request_id:
            raise FhirValidatorError(f"answer {answer!r} is not for request {request_id}")
        return [] if answer["ok"] else list(answer["issues"])

    def assert_valid(self, resource: dict) -> None:
        issues = self.validate(resource)
        if issues:
            what = f"{resource.get('resourceType')}/{resource.get('id')}" if isinstance(resource, dict) else "resource"
            raise AssertionError(f"{what} is not valid FHIR R4:\n  " + "\n  ".join(issues))

    def close(self) -> None:
        with self._lock:
            process, self._process = self._process, None
        if process is not None:
            process.stdin.close()  # the validator ends at end of input
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


_shared: FhirValidator | None = None
_shared_lock = threading.Lock()


def fhir_validator() -> FhirValidator:
    """The process-wide validator, started on first use and stopped at interpreter exit."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = FhirValidator()
            atexit.register(_shared.close)
        return _shared
