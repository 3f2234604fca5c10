"""Lambda, locally: each function of template.yaml runs in worker processes of its own
(local_stack/worker.py), with its template environment and the layer on its path.

A pool per function keeps warm workers and starts more on demand, up to LOCAL_CONCURRENCY
(default 4) at once per function, so concurrent requests really run concurrently, as they do on
Lambda. A worker that outlives the function's timeout is killed (the request ends as the template's
DEFAULT_5XX gateway response), and a fresh one takes its place on the next request.
"""

from __future__ import annotations

import json
import os
import select
import subprocess  # workers are our own Python processes  # nosec B404
import sys
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from local_stack import ROOT
from local_stack import template as tpl

WORKER = Path(__file__).resolve().parent / "worker.py"
LogSink = Callable[[str, str], None]  # (function logical id, one line of its output)


class FunctionFailed(Exception):
    """The function timed out, crashed or raised: API Gateway answers with its 5XX response; an
    event source retries. ``error_type`` is what Lambda would report: the exception's class name,
    ``Sandbox.Timedout``, ``Runtime.ExitError`` or ``Runtime.InitError``."""

    def __init__(self, message: str, error_type: str = "Runtime.ExitError") -> None:
        super().__init__(message)
        self.error_type = error_type


# Secrets Manager does not exist locally: a function given a secret's ARN gets a local value instead
# (the only place local defaults are supplied; in AWS a missing secret stops the function at init).
LOCAL_SECRETS = {"PAGINATION_SECRET_ARN": ("PAGINATION_SECRET", "local-pagination-secret")}


def _local_environment(variables: dict[str, str]) -> dict[str, str]:
    env = {}
    for name, value in variables.items():
        if name in LOCAL_SECRETS:
            local_name, local_value = LOCAL_SECRETS[name]
            env[local_name] = os.environ.get(f"LOCAL_{local_name}", local_value)
        else:
            env[name] = value
    return env


def service_endpoints(gateway_url: str) -> dict[str, str]:
    """The local AWS endpoints the gateway serves, as the per-service variables boto3 reads.
    EventBridge's is AWS_ENDPOINT_URL_EVENTBRIDGE: botocore names the variable after the service
    id ("EventBridge"), not the client name ("events"), so AWS_ENDPOINT_URL_EVENTS is ignored."""
    return {
        "AWS_ENDPOINT_URL_EVENTBRIDGE": f"{gateway_url}/_aws/events",
        "AWS_ENDPOINT_URL_SCHEDULER": f"{gateway_url}/_aws/scheduler",
    }


def worker_environment(function: tpl.Function, endpoint: str, services: dict[str, str] | None = None) -> dict[str, str]:
    env = {key: os.environ[key] for key in ("PATH", "HOME", "LANG", "TZ", "SYSTEMROOT") if key in os.environ}
    env.update(_local_environment(function.environment))
    env.update(
        {
            "AWS_LAMBDA_FUNCTION_NAME": function.logical_id,
            # boto3 adds "app/<id>" to its User-Agent: a DynamoDB call says which function made it
            # (make bench counts a request's calls apart from the stream consumers' running meanwhile)
            "AWS_SDK_UA_APP_ID": function.logical_id,
            "AWS_LAMBDA_FUNCTION_TIMEOUT": str(function.timeout),
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
            "AWS_REGION": "us-east-1",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",  # the local store accepts any credentials
            "AWS_ENDPOINT_URL_DYNAMODB": endpoint,
            **(services or {}),  # the local EventBridge and Scheduler (service_endpoints)
            "POWERTOOLS_TRACE_DISABLED": "true",  # no X-Ray daemon here
            "PYTHONUNBUFFERED": "1",
            "PYTHONDONTWRITEBYTECODE": "1",
            "LOCAL_LAYER_PATHS": os.pathsep.join(str(p) for p in tpl.layer_dirs()),
        }
    )
    # Developer switches (e.g. fault injection) reach every function.
    env.update({k: v for k, v in os.environ.items() if k.startswith("CLINIC_")})
    return env


class Worker:
    def __init__(
        self, function: tpl.Function, endpoint: str, sink: LogSink, services: dict[str, str] | None = None
    ) -> None:
        self.function = function
        read_fd, write_fd = os.pipe()
        env = worker_environment(function, endpoint, services)
        env["LOCAL_RESPONSE_FD"] = str(write_fd)
        self.process = subprocess.Popen(  # fixed argv, no shell  # nosec B603
            [sys.executable, str(WORKER), str(function.code_dir), function.module, function.handler],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=ROOT,
            pass_fds=(write_fd,),
            text=True,
            bufsize=1,
        )
        os.close(write_fd)
        self.answers = os.fdopen(read_fd, "r", encoding="utf-8")
        threading.Thread(target=self._pump, args=(sink,), daemon=True, name=f"logs-{function.logical_id}").start()
        self._read(timeout=60)  # {"ready": true}: the module is imported (the cold start)

    def _pump(self, sink: LogSink) -> None:
        assert self.process.stdout is not None  # noqa: S101 - started with stdout=PIPE (narrows the type)
        for line in self.process.stdout:
            sink(self.function.logical_id, line.rstrip("\n"))

    def _read(self, timeout: float) -> dict[str, Any]:
        ready, _, _ = select.select([self.answers], [], [], timeout)
        if not ready:
            self.kill()
            raise FunctionFailed(f"{self.function.logical_id} timed out after {timeout:.0f} s", "Sandbox.Timedout")
        line = self.answers.readline()
        if not line:
            self.kill()
            raise FunctionFailed(f"{self.function.logical_id} exited", "Runtime.ExitError")
        return json.loads(line)

    def invoke(self, event: dict[str, Any], request_id: str) -> dict[str, Any]:
        assert self.process.stdin is not None  # noqa: S101 - started with stdin=PIPE (narrows the type)
        try:
            self.process.stdin.write(json.dumps({"event": event, "request_id": request_id}) + "\n")
            self.process.stdin.flush()
        except (BrokenPipeError, OSError):
            self.kill()
            raise FunctionFailed(f"{self.function.logical_id} is not running", "Runtime.ExitError") from None
        answer = self._read(timeout=self.function.timeout + 1)
        if "error" in answer:
            raise FunctionFailed(f"{self.function.logical_id} raised {answer['error']}", str(answer["error"]))
        return answer["result"]

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass

    def stop(self) -> None:
        if self.process.poll() is None:
            try:
                assert self.process.stdin is not None  # noqa: S101 - started with stdin=PIPE (narrows the type)
                self.process.stdin.close()  # the worker's loop ends at EOF
                self.process.wait(timeout=3)
            except (OSError, subprocess.TimeoutExpired):
                self.kill()
        self.answers.close()


class Pool:
    """The warm workers of one function."""

    def __init__(
        self,
        function: tpl.Function,
        endpoint: str,
        sink: LogSink,
        concurrency: int,
        services: dict[str, str] | None = None,
    ) -> None:
        self.function, self.endpoint, self.sink, self.concurrency = function, endpoint, sink, concurrency
        self.services = services if services is not None else {}
        self.idle: list[Worker] = []
        self.live = 0
        self.condition = threading.Condition()
        self.closed = False

    def _acquire(self) -> Worker:
        with self.condition:
            while True:
                if self.closed:
                    raise FunctionFailed("the local stack is shutting down", "Local.ShuttingDown")
                while self.idle:
                    worker = self.idle.pop()
                    if worker.alive:
                        return worker
                    self.live -= 1
                if self.live < self.concurrency:
                    self.live += 1
                    break
                self.condition.wait()
        try:
            return Worker(self.function, self.endpoint, self.sink, self.services)
        except Exception:
            with self.condition:
                self.live -= 1
                self.condition.notify()
            raise

    def _release(self, worker: Worker) -> None:
        with self.condition:
            if worker.alive and not self.closed:
                self.idle.append(worker)
            else:
                self.live -= 1
                worker.kill()
            self.condition.notify()

    def invoke(self, event: dict[str, Any], request_id: str | None = None) -> dict[str, Any]:
        worker = self._acquire()
        try:
            return worker.invoke(event, request_id or str(uuid.uuid4()))
        finally:
            self._release(worker)

    def warm(self) -> None:
        """Start one worker ahead of the first request."""
        try:
            self._release(self._acquire())
        except Exception:  # noqa: S110 - a worker that fails to start is started (and reported) on first use
            pass

    def close(self) -> None:
        with self.condition:
            self.closed = True
            workers, self.idle = self.idle, []
            self.condition.notify_all()
        for worker in workers:
            worker.stop()


class Functions:
    """Every function of the template, by logical id. ``services`` (filled in before ``warm``, once
    the gateway's port is known) is the local AWS endpoints every new worker gets."""

    def __init__(self, endpoint: str, sink: LogSink, concurrency: int | None = None) -> None:
        concurrency = concurrency or int(os.environ.get("LOCAL_CONCURRENCY", "4"))
        self.services: dict[str, str] = {}
        self.pools = {f.logical_id: Pool(f, endpoint, sink, concurrency, self.services) for f in tpl.functions()}

    def invoke(self, logical_id: str, event: dict[str, Any], request_id: str | None = None) -> dict[str, Any]:
        return self.pools[logical_id].invoke(event, request_id)

    def warm(self) -> threading.Thread:
        def run() -> None:
            started = time.monotonic()
            threads = [threading.Thread(target=pool.warm, daemon=True) for pool in self.pools.values()]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            self.warm_seconds = time.monotonic() - started

        thread = threading.Thread(target=run, daemon=True, name="warm-up")
        thread.start()
        return thread

    def close(self) -> None:
        for pool in self.pools.values():
            pool.close()
