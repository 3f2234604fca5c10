"""`make bench`: what booking costs and how fast it is, measured on the local stack.

Starts DynamoDB Local (in memory) and the local stack in front of it, with a small recording proxy
between the two that asks DynamoDB for the consumed capacity of every call and counts the calls.
Then, over real HTTP with a staff token, it measures:

- start-up: DynamoDB Local, then the stack until /health answers;
- cold start: importing one function (BookAppointment) with its layer in a fresh interpreter;
- latency p50/p95/p99 of booking, cancelling, rescheduling and the main reads, one client;
- DynamoDB calls and capacity units per request of each kind;
- throughput: bookings per second with several concurrent clients on distinct slots;
- contention: 50 clients racing for one slot, several rounds (exactly one winner each).

It prints figures and asserts nothing about time: wall-clock numbers depend on the machine. (The
local stack runs the functions in worker processes on this machine; AWS adds network hops and
removes the proxy, so read the figures as relative costs, not as production latencies.)

    make bench                 BENCH_BOOKINGS=300 BENCH_CLIENTS=8 make bench
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import requests

from local_stack import background, dynamodb, tokens
from local_stack import template as tpl
from local_stack.functions import worker_environment

BOOKINGS = int(os.environ.get("BENCH_BOOKINGS", "200"))
CLIENTS = int(os.environ.get("BENCH_CLIENTS", "8"))
READS = int(os.environ.get("BENCH_READS", "100"))
RACERS, RACE_ROUNDS = 50, 5
SLOT = timedelta(minutes=15)
ALL_DAY = {d: [{"start": "00:00", "end": "24:00"}] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
# Operations that accept ReturnConsumedCapacity.
WITH_CAPACITY = {"GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "Scan", "TransactWriteItems",
                 "TransactGetItems", "BatchGetItem", "BatchWriteItem"}


# ------------------------------------------------------------------ the recording proxy
class Recorder:
    """DynamoDB calls and consumed capacity units, by operation, since the last reset."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.calls: Counter[str] = Counter()
            self.capacity: defaultdict[str, float] = defaultdict(float)

    def record(self, operation: str, response: dict) -> None:
        consumed = response.get("ConsumedCapacity") or []
        units = sum(c.get("CapacityUnits", 0) for c in (consumed if isinstance(consumed, list) else [consumed]))
        with self.lock:
            self.calls[operation] += 1
            self.capacity[operation] += units

    def snapshot(self) -> tuple[Counter, dict]:
        with self.lock:
            return Counter(self.calls), dict(self.capacity)


def start_proxy(upstream: str, recorder: Recorder) -> ThreadingHTTPServer:
    target = urlsplit(upstream)

    class Proxy(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            super().setup()
            # Headers and body leave in separate writes; without this, Nagle's algorithm and the
            # client's delayed ACK add ~40 ms to every DynamoDB call.
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            operation = self.headers.get("X-Amz-Target", ".").split(".")[-1]
            if operation in WITH_CAPACITY:
                request = json.loads(body or b"{}")
                request.setdefault("ReturnConsumedCapacity", "TOTAL")
                body = json.dumps(request).encode()  # DynamoDB Local does not check the signature
            headers = {k: v for k, v in self.headers.items() if k.lower() not in ("content-length", "connection")}
            upstream_connection = http.client.HTTPConnection(target.hostname, target.port, timeout=30)
            try:
                upstream_connection.request("POST", self.path, body=body, headers=headers)
                reply = upstream_connection.getresponse()
                payload = reply.read()
            finally:
                upstream_connection.close()
            try:
                recorder.record(operation, json.loads(payload or b"{}"))
            except ValueError:
                pass
            self.send_response(reply.status)
            for key, value in reply.getheaders():
                if key.lower() not in ("content-length", "connection", "transfer-encoding"):
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args) -> None:  # quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", dynamodb.free_port()), Proxy)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True, name="dynamodb-proxy").start()
    return server


# ------------------------------------------------------------------ the client
def iso(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


class Client:
    def __init__(self, url: str) -> None:
        self.url = url
        self.local = threading.local()
        self.headers = {"Authorization": f"Bearer {tokens.mint('staff')}"}

    @property
    def session(self) -> requests.Session:
        if not hasattr(self.local, "session"):
            self.local.session = requests.Session()
            self.local.session.headers.update(self.headers)
        return self.local.session

    def call(self, method: str, path: str, **kwargs) -> tuple[requests.Response, float]:
        began = time.perf_counter()
        response = self.session.request(method, self.url + path, timeout=60, **kwargs)
        return response, (time.perf_counter() - began) * 1000


def created(response: requests.Response) -> str:
    if response.status_code != 201:
        raise SystemExit(f"setup failed: {response.status_code} {response.text}")
    return response.json()["id"]


# ------------------------------------------------------------------ measurements
class Report:
    def __init__(self) -> None:
        self.rows: list[tuple[str, int, list[float], Counter, dict]] = []

    def add(self, name: str, latencies: list[float], recorder: Recorder) -> None:
        calls, capacity = recorder.snapshot()
        self.rows.append((name, len(latencies), latencies, calls, capacity))

    def print(self) -> None:
        print(f"\n{'request':<28}{'n':>5}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'max ms':>9}"
              f"{'DDB calls':>11}{'CU':>7}  calls per request")
        for name, n, latencies, calls, capacity in self.rows:
            q = quantiles(latencies)
            per = ", ".join(f"{op} {count / n:g}" for op, count in sorted(calls.items()))
            print(f"{name:<28}{n:>5}{q[50]:>9.1f}{q[95]:>9.1f}{q[99]:>9.1f}{max(latencies):>9.1f}"
                  f"{sum(calls.values()) / n:>11.2f}{sum(capacity.values()) / n:>7.1f}  {per}")


def quantiles(values: list[float]) -> dict[int, float]:
    if len(values) < 2:
        return {50: values[0], 95: values[0], 99: values[0]}
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return {50: cuts[49], 95: cuts[94], 99: cuts[98]}


def measure(report: Report, recorder: Recorder, name: str, requests_: list, client: Client,
            expect: int) -> list[requests.Response]:
    recorder.reset()
    latencies, responses = [], []
    for method, path, kwargs in requests_:
        response, ms = client.call(method, path, **kwargs)
        if response.status_code != expect:
            raise SystemExit(f"{name}: expected {expect}, got {response.status_code} {response.text}")
        latencies.append(ms)
        responses.append(response)
    report.add(name, latencies, recorder)
    return responses


def cold_start_ms() -> float:
    """Import time of one function with its layer, in a fresh interpreter: the code part of a cold start."""
    function = tpl.function("BookAppointmentFunction")
    env = worker_environment(function, "http://127.0.0.1:1")
    paths = [str(function.code_dir), *(str(p) for p in tpl.layer_dirs())]
    script = ("import sys, time; sys.path[:0] = sys.argv[1:]; t = time.perf_counter(); "
              f"import {function.module}; print((time.perf_counter() - t) * 1000)")
    samples = []
    for _ in range(3):
        out = subprocess.run([sys.executable, "-c", script, *paths], env=env, capture_output=True, text=True, check=True)
        samples.append(float(out.stdout.strip().splitlines()[-1]))
    return statistics.median(samples)


def main() -> int:
    print(f"bench: {BOOKINGS} bookings, {CLIENTS} concurrent clients, {READS} reads per kind, "
          f"{RACE_ROUNDS} rounds of {RACERS} racers (Python {sys.version.split()[0]}, {os.cpu_count()} CPUs)")
    began = time.monotonic()
    store = dynamodb.start(port=dynamodb.free_port(), in_memory=True)
    store_ready = time.monotonic() - began
    recorder = Recorder()
    proxy = start_proxy(store.endpoint, recorder)
    proxy_url = f"http://127.0.0.1:{proxy.server_address[1]}"
    log_file = Path(tempfile.mkdtemp(prefix="clinic-bench-")) / "stack.log"
    try:
        stack = background.start(log_file, env={"DYNAMODB_ENDPOINT": proxy_url})
    except RuntimeError as error:
        store.stop()
        print(error, file=sys.stderr)
        return 1
    try:
        print(f"store: {store.mode}, up in {store_ready:.1f} s; stack answering /health {stack.started_in_s:.1f} s later")
        print(f"cold start (imports of BookAppointmentFunction + layer): {cold_start_ms():.0f} ms (median of 3)")
        run(Client(stack.url), recorder)
    finally:
        stack.stop()
        proxy.shutdown()
        store.stop()
    return 0


def run(client: Client, recorder: Recorder) -> None:
    report = Report()
    doctor_body = {"given_name": "Bench", "family_name": "Doctor", "specialty": "Benchmarks", "time_zone": "UTC",
                   "slot_minutes": 15, "working_hours": ALL_DAY}
    doctor = created(client.call("POST", "/doctors", json=doctor_body)[0])
    racing_doctor = created(client.call("POST", "/doctors", json=doctor_body)[0])
    patients = [created(client.call("POST", "/patients", json={"given_name": "Bench", "family_name": f"Patient{i}",
                                                                "birth_date": "1990-01-01", "sex": "unknown"})[0])
                for i in range(max(CLIENTS, RACERS))]
    first = (datetime.now(timezone.utc) + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)

    def book(i: int, doctor_id: str = doctor, start: datetime | None = None, patient: str | None = None):
        body = {"doctor_id": doctor_id, "patient_id": patient or patients[i % len(patients)],
                "start": iso(start or first + i * SLOT), "duration_minutes": 15}
        return "POST", "/appointments", {"json": body}

    # Writes, one client.
    booked = measure(report, recorder, "book", [book(i) for i in range(BOOKINGS)], client, 201)
    ids = [r.json()["id"] for r in booked]
    keyed = [("POST", "/appointments", {"json": book(BOOKINGS + i)[2]["json"], "headers": {"Idempotency-Key": str(uuid.uuid4())}})
             for i in range(READS)]
    measure(report, recorder, "book with Idempotency-Key", keyed, client, 201)
    measure(report, recorder, "  same key again (replay)", keyed, client, 201)
    clash = [book(i, patient=patients[(i + 1) % len(patients)]) for i in range(READS)]
    measure(report, recorder, "book a taken slot (409)", clash, client, 409)
    later = first + timedelta(days=30)
    measure(report, recorder, "reschedule", [("PATCH", f"/appointments/{a}", {"json": {"start": iso(later + i * SLOT)}})
                                             for i, a in enumerate(ids[:READS])], client, 200)
    measure(report, recorder, "cancel", [("POST", f"/appointments/{a}/cancel", {"json": {"reason": "bench"}})
                                         for a in ids[READS:2 * READS]], client, 200)

    # Reads, one client.
    window = {"from": iso(first), "to": iso(first + timedelta(days=7))}
    measure(report, recorder, "get appointment", [("GET", f"/appointments/{a}", {}) for a in ids[:READS]], client, 200)
    measure(report, recorder, "doctor schedule (7 days)", [("GET", f"/doctors/{doctor}/schedule",
                                                            {"params": {**window, "limit": 100}})] * READS, client, 200)
    measure(report, recorder, "doctor availability (7 d)", [("GET", f"/doctors/{doctor}/availability",
                                                             {"params": window})] * READS, client, 200)
    measure(report, recorder, "patient appointments", [("GET", f"/patients/{patients[0]}/appointments",
                                                        {"params": {**window, "limit": 100}})] * READS, client, 200)
    measure(report, recorder, "get patient", [("GET", f"/patients/{p}", {}) for p in patients] * 2, client, 200)
    measure(report, recorder, "search patients", [("POST", "/patients/search", {"json": {"family_name_prefix": "patient"}})]
            * READS, client, 200)
    measure(report, recorder, "health", [("GET", "/health", {})] * READS, client, 200)
    report.print()

    # Throughput: CLIENTS clients booking distinct slots (each client its own patient: no patient clash).
    offset = first + timedelta(days=60)
    statuses: Counter[int] = Counter()
    latencies: list[float] = []
    lock = threading.Lock()

    def one(i: int) -> None:
        method, path, kwargs = book(i, start=offset + i * SLOT, patient=patients[i % CLIENTS])
        response, ms = client.call(method, path, **kwargs)
        with lock:
            statuses[response.status_code] += 1
            latencies.append(ms)

    with ThreadPoolExecutor(CLIENTS) as pool:
        # Warm-up, not counted: the stack starts more workers for the function (cold starts) only
        # when requests overlap, as Lambda does.
        list(pool.map(one, range(BOOKINGS, BOOKINGS + 2 * CLIENTS)))
        statuses.clear()
        latencies.clear()
        recorder.reset()
        began = time.perf_counter()
        list(pool.map(one, range(BOOKINGS)))
    elapsed = time.perf_counter() - began
    q = quantiles(latencies)
    calls, _ = recorder.snapshot()
    print(f"\nthroughput: {BOOKINGS} bookings by {CLIENTS} clients in {elapsed:.1f} s = {BOOKINGS / elapsed:.0f} bookings/s; "
          f"p50 {q[50]:.0f} ms, p95 {q[95]:.0f} ms, p99 {q[99]:.0f} ms; statuses {dict(statuses)}; "
          f"TransactWriteItems calls {calls['TransactWriteItems']}")

    # Contention: RACERS clients, different patients, one slot; exactly one should win each round.
    print(f"contention: {RACERS} clients racing for one slot, {RACE_ROUNDS} rounds")
    for round_ in range(RACE_ROUNDS):
        slot = first + timedelta(days=90, hours=round_)
        recorder.reset()
        began = time.perf_counter()
        with ThreadPoolExecutor(RACERS) as pool:
            results = list(pool.map(lambda i: client.call(*book(0, racing_doctor, slot, patients[i])[:2],
                                                           **book(0, racing_doctor, slot, patients[i])[2])[0].status_code,
                                     range(RACERS)))
        elapsed = time.perf_counter() - began
        calls, _ = recorder.snapshot()
        print(f"  round {round_ + 1}: {dict(sorted(Counter(results).items()))} in {elapsed * 1000:.0f} ms, "
              f"{calls['TransactWriteItems']} transactions")
    print("\nCU = capacity units as DynamoDB Local reports them per request (reads and writes together). "
          "AWS bills each item of a transaction at twice a plain write (2 WRU per KB), which DynamoDB Local "
          "does not model; use the calls per request for the bill.")


if __name__ == "__main__":
    sys.exit(main())
