"""`make bench`: what each request costs and how fast it is, measured on the local stack.

Starts DynamoDB Local (in memory) and the local stack in front of it, with a small recording proxy
between the two that asks DynamoDB for the consumed capacity of every call and counts the calls and
the items they read. Then, in one run (sections, in order; BENCH_SECTIONS=size,latency,functions,
contention picks some):

size       table size: 1,000 vs 100,000 appointments (two more DynamoDB Locals, bulk-loaded with items
           shaped as the service writes them, tests/benchkit/bulk.py). Availability, a doctor's
           schedule, a patient's appointments and a doctor's patient search, sent alternately to
           either store through the proxy: items read, capacity and latency, with the ratios.
latency    p50/p95/p99, DynamoDB calls and capacity of booking, cancelling, rescheduling and the main
           reads with one client; booking throughput with several clients on distinct slots;
           50 clients racing for one slot, several rounds (exactly one winner each).
functions  one row per function of the route declaration (clinic.routes), each from a small seeded
           world (tests/benchkit/world.py), and one per variant of a route (world.VARIANTS: a keyed
           booking, a booking by appointment type, the FHIR appointment search by practitioner), whose
           cold start is its function's:
           - cold start: a fresh interpreter imports the function and serves its first request
             against the store (tests/benchkit/cold_probe.py), vs a baseline interpreter that imports
             boto3, creates a client and makes one GetItem; median of BENCH_COLD_RUNS each,
             interleaved. Both with compiled bytecode: see "Bytecode" below;
           - warm overhead: our code's time per request in-process with DynamoDB stubbed at
             botocore's _make_api_call (tests/benchkit/warm_probe.py), vs a bare handler making the
             same calls; medians of BENCH_WARM_ITERATIONS, interleaved;
           - DynamoDB calls, capacity and items read per warm request, and its latency, over HTTP;
           - peak RSS (VmHWM) of the function's worker processes in the stack, after its requests;
           then where the worst cold start's time goes (python -X importtime), and the same cold
           start as deployed today: no .pyc (as `sam build` ships the layer) and X-Ray tracing on.
contention hot items: clients booking different slots of ONE doctor's same UTC hour (one slot-lock
           item, one doctor item) vs the same number of clients booking different doctors.

Bytecode: this machine sets PYTHONDONTWRITEBYTECODE=1, so the layer's .py files would be compiled on
every import. The probes instead compile once into a private PYTHONPYCACHEPREFIX (warmed by one
uncounted run each) — baseline and function alike, so the comparison is of import work, not of
compiling. (Lambda after `sam build` is NOT like that: the python_pip builder unpacks wheels and
copies sources without compiling, so a deployed layer holds no .pyc at all; and template.yaml turns
X-Ray tracing on. The last figures of the functions section measure those cases.)

It prints figures and asserts nothing about time: wall-clock numbers depend on the machine. (The
local stack runs the functions in worker processes on this machine; AWS adds network hops and
removes the proxy, so read the figures as relative costs, not as production latencies.) Knobs:

    BENCH_QUICK=1            quick run: 10,000 instead of 100,000 appointments, N=3 cold runs, fewer requests
    BENCH_SECTIONS=...       size,latency,functions,contention (default: all)
    BENCH_COLD_RUNS=5        fresh processes per function (and as many baseline processes)
    BENCH_WARM_ITERATIONS=300  in-process requests per function (and as many bare ones)
    BENCH_CALLS=10           warm requests per function over HTTP
    BENCH_SIZE=100000 BENCH_SIZE_SMALL=1000 BENCH_SIZE_ROUNDS=40
    BENCH_BOOKINGS=200 BENCH_CLIENTS=8 BENCH_READS=100 BENCH_HOT_CLIENTS=12 BENCH_HOT_ROUNDS=10
"""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
import uuid
import zlib
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests

from local_stack import background, dynamodb, tokens
from local_stack import template as tpl
from local_stack.functions import worker_environment
from tests.benchkit import bulk, workers
from tests.benchkit.world import VARIANTS, Req, World, iso

QUICK = os.environ.get("BENCH_QUICK", "") not in ("", "0")


def knob(name: str, full: int, quick: int) -> int:
    return int(os.environ.get(name) or (quick if QUICK else full))


BOOKINGS = knob("BENCH_BOOKINGS", 200, 100)
CLIENTS = knob("BENCH_CLIENTS", 8, 8)
READS = knob("BENCH_READS", 100, 30)
COLD_RUNS = knob("BENCH_COLD_RUNS", 5, 3)
WARM_ITERATIONS = knob("BENCH_WARM_ITERATIONS", 300, 100)
CALLS = knob("BENCH_CALLS", 10, 5)
SIZE_SMALL = knob("BENCH_SIZE_SMALL", 1_000, 1_000)
SIZE_LARGE = knob("BENCH_SIZE", 100_000, 10_000)
SIZE_ROUNDS = knob("BENCH_SIZE_ROUNDS", 40, 15)
HOT_CLIENTS = knob("BENCH_HOT_CLIENTS", 12, 12)
HOT_ROUNDS = knob("BENCH_HOT_ROUNDS", 10, 5)
SECTIONS = [s.strip() for s in (os.environ.get("BENCH_SECTIONS") or "size,latency,functions,contention").split(",")]
RACERS, RACE_ROUNDS = 50, 5
SLOT = timedelta(minutes=15)
ALL_DAY = {d: [{"start": "00:00", "end": "24:00"}] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
# Operations that accept ReturnConsumedCapacity.
WITH_CAPACITY = {
    "GetItem",
    "PutItem",
    "UpdateItem",
    "DeleteItem",
    "Query",
    "Scan",
    "TransactWriteItems",
    "TransactGetItems",
    "BatchGetItem",
    "BatchWriteItem",
}
# The issue's targets.
COLD_RATIO_MAX, READ_OVERHEAD_MAX_MS, WRITE_OVERHEAD_MAX_MS, SIZE_RATIO_MAX, RSS_MAX_MB = 1.3, 0.5, 1.0, 1.1, 100
CALL_TARGETS = {
    "BookAppointment": 1,
    "BookAppointment+type": 1,
    "BookAppointment+key": 3,
    "CancelAppointment": 2,
    "UpdateAppointment": 2,
    "GetAppointment": 2,
    "GetPatient": 2,
    "DoctorAvailability": 2,
}
PROBES = Path(__file__).resolve().parent / "benchkit"


# ------------------------------------------------------------------ the recording proxy
class Recorder:
    """DynamoDB calls, consumed capacity units, items read and transaction conflicts, by operation,
    since the last reset."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.reset()

    only: str | None = None  # a function's logical id: count its calls alone (the User-Agent's app/<id>)

    def reset(self) -> None:
        with self.lock:
            self.calls: Counter[str] = Counter()
            self.capacity: defaultdict[str, float] = defaultdict(float)
            self.items: Counter[str] = Counter()
            self.conflicts = 0
            self.store_ms = 0.0

    def record(self, operation: str, response: dict, ms: float = 0.0, function: str | None = None) -> None:
        if self.only is not None and function != self.only:
            return  # another function's call (a stream consumer, a timer) made while this one ran
        consumed = response.get("ConsumedCapacity") or []
        units = sum(c.get("CapacityUnits", 0) for c in (consumed if isinstance(consumed, list) else [consumed]))
        if operation in ("Query", "Scan"):
            read = response.get("ScannedCount", 0)
        elif operation == "GetItem":
            read = 1 if response.get("Item") else 0
        elif operation == "BatchGetItem":
            read = sum(len(items) for items in (response.get("Responses") or {}).values())
        else:
            read = 0
        reasons = response.get("CancellationReasons") or []
        with self.lock:
            self.calls[operation] += 1
            self.capacity[operation] += units
            self.items[operation] += read
            self.conflicts += any(r.get("Code") == "TransactionConflict" for r in reasons)
            self.store_ms += ms

    def snapshot(self) -> tuple[Counter, dict, Counter]:
        with self.lock:
            return Counter(self.calls), dict(self.capacity), Counter(self.items)


def start_proxy(upstream: str, recorder: Recorder) -> ThreadingHTTPServer:
    """The proxy. Between requests, ``server.rename`` = (prefix, other prefix) sends every call to the
    tables named with the other prefix in the same store (and names the template's in the answers)."""

    class Proxy(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            super().setup()
            # Headers and body leave in separate writes; without this, Nagle's algorithm and the
            # client's delayed ACK add ~40 ms to every DynamoDB call.
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def do_POST(self) -> None:
            target = urlsplit(self.server.upstream)
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            service, _, operation = self.headers.get("X-Amz-Target", ".").partition(".")
            dynamodb_call = service.startswith("DynamoDB_")  # not DynamoDBStreams_
            if dynamodb_call and operation in WITH_CAPACITY:
                request = json.loads(body or b"{}")
                request.setdefault("ReturnConsumedCapacity", "TOTAL")
                body = json.dumps(request).encode()  # DynamoDB Local does not check the signature
            rename = self.server.rename
            if rename:  # the same request, on the other set of tables
                body = body.replace(f'"{rename[0]}'.encode(), f'"{rename[1]}'.encode())
            headers = {k: v for k, v in self.headers.items() if k.lower() not in ("content-length", "connection")}
            upstream_connection = http.client.HTTPConnection(target.hostname, target.port, timeout=30)
            began = time.perf_counter()
            try:
                upstream_connection.request("POST", self.path, body=body, headers=headers)
                reply = upstream_connection.getresponse()
                payload = reply.read()
            finally:
                upstream_connection.close()
            store_ms = (time.perf_counter() - began) * 1000
            if rename:
                payload = payload.replace(f'"{rename[1]}'.encode(), f'"{rename[0]}'.encode())
            if dynamodb_call:
                try:
                    app = re.search(r"\bapp/(\S+)", self.headers.get("User-Agent", ""))
                    recorder.record(operation, json.loads(payload or b"{}"), store_ms, app and app.group(1))
                except ValueError:
                    pass
            self.send_response(reply.status)
            for key, value in reply.getheaders():
                if key.lower() == "x-amz-crc32":  # botocore checks it (and retries when it fails)
                    value = str(zlib.crc32(payload))
                if key.lower() not in ("content-length", "connection", "transfer-encoding"):
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args) -> None:  # quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", dynamodb.free_port()), Proxy)
    server.daemon_threads = True
    server.upstream = upstream
    server.rename = None
    threading.Thread(target=server.serve_forever, daemon=True, name="dynamodb-proxy").start()
    return server


# ------------------------------------------------------------------ the client
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

    def send(self, req: Req) -> tuple[int, Any]:
        """World's way in: one request, its status and JSON body."""
        method, path, kwargs = req.http()
        response, _ = self.call(method, path, **kwargs)
        try:
            return response.status_code, response.json() if response.content else None
        except ValueError:
            return response.status_code, response.text

    def timed(self, req: Req) -> float:
        method, path, kwargs = req.http()
        response, ms = self.call(method, path, **kwargs)
        if response.status_code != req.expect:
            raise SystemExit(f"{req.function}: expected {req.expect}, got {response.status_code} {response.text}")
        return ms


def created(response: requests.Response) -> str:
    if response.status_code != 201:
        raise SystemExit(f"setup failed: {response.status_code} {response.text}")
    return response.json()["id"]


def quantiles(values: list[float]) -> dict[int, float]:
    if len(values) < 2:
        return {50: values[0], 95: values[0], 99: values[0]}
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return {50: cuts[49], 95: cuts[94], 99: cuts[98]}


def section(title: str) -> None:
    print(f"\n{'=' * 8} {title} {'=' * max(0, 90 - len(title))}", flush=True)


# ------------------------------------------------------------------ size: 1k vs 100k appointments
def table_size(
    client: Client, recorder: Recorder, proxy: ThreadingHTTPServer, store: dynamodb.Store
) -> dict[str, dict[str, Any]]:
    section(f"table size: {SIZE_SMALL:,} vs {SIZE_LARGE:,} appointments")
    world = World(client.send, patients=1)
    calendar = world.calendar  # through the stack, so every item is one the service wrote
    window_start = datetime.fromisoformat(world.window()["from"].replace("Z", "+00:00"))
    snapshot = bulk.snapshot(bulk.Writer(store.endpoint))
    own, large = bulk.prefix(), "clinic-large-"
    created = bulk.create_tables(store.endpoint, large)
    try:
        for size, table_prefix in ((SIZE_SMALL, None), (SIZE_LARGE, large)):
            loaded = bulk.load(
                store.endpoint,
                snapshot,
                size,
                calendar["doctor"],
                calendar["patient"],
                window_start,
                table_prefix=table_prefix,
            )
            print(
                f"  {loaded['appointments']:>7,} appointments: {loaded['items']:,} items written in "
                f"{loaded['seconds']:.1f} s ({loaded['items'] / loaded['seconds']:,.0f} items/s) "
                f"{loaded['by_table']}",
                flush=True,
            )
        reads = {
            "DoctorAvailability": Req(
                "DoctorAvailability",
                "GET",
                "/doctors/{doctor_id}/availability",
                {"doctor_id": calendar["doctor"]},
                world.window(),
            ),
            "DoctorSchedule": Req(
                "DoctorSchedule",
                "GET",
                "/doctors/{doctor_id}/schedule",
                {"doctor_id": calendar["doctor"]},
                {**world.window(), "limit": "100"},
            ),
            "PatientAppointments": Req(
                "PatientAppointments",
                "GET",
                "/patients/{patient_id}/appointments",
                {"patient_id": calendar["patient"]},
                {**world.window(), "limit": "100"},
            ),
            "SearchPatients": Req(
                "SearchPatients",
                "POST",
                "/patients/search",
                body={"family_name_prefix": "bench", "limit": 20},
                caller=("doctor", calendar["doctor"]),
            ),  # a doctor's search: their own patients
        }
        samples: dict[tuple[str, int], dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
        warm_up = 3
        for round_ in range(warm_up + SIZE_ROUNDS):
            for name, req in reads.items():
                sizes = (SIZE_SMALL, SIZE_LARGE) if round_ % 2 else (SIZE_LARGE, SIZE_SMALL)
                for size in sizes:
                    proxy.rename = (own, large) if size == SIZE_LARGE else None
                    recorder.reset()
                    ms = client.timed(req)
                    calls, capacity, items = recorder.snapshot()
                    if round_ >= warm_up:
                        got = samples[(name, size)]
                        got["ms"].append(ms)
                        got["store_ms"].append(recorder.store_ms)
                        got["items"].append(sum(items.values()))
                        got["cu"].append(sum(capacity.values()))
                        got["calls"].append(sum(calls.values()))
    finally:
        proxy.rename = None
        bulk.delete_tables(store.endpoint, created)
    result = {}
    print(
        f"\n{'read':<22}{'items read':>16}{'CU':>14}{'calls':>8}{'request p50 ms':>18}{'×':>7}"
        f"{'in DynamoDB ms':>18}{'×':>7}   (medians of {SIZE_ROUNDS} requests each, alternating sizes)"
    )
    for name in reads:
        small, large = samples[(name, SIZE_SMALL)], samples[(name, SIZE_LARGE)]
        row = {
            k: (statistics.median(small[k]), statistics.median(large[k]))
            for k in ("ms", "store_ms", "items", "cu", "calls")
        }
        row["ratio_ms"] = row["ms"][1] / row["ms"][0]
        row["ratio_store"] = row["store_ms"][1] / row["store_ms"][0]
        row["ratio_items"] = row["items"][1] / row["items"][0] if row["items"][0] else float("nan")
        result[name] = row
        print(
            f"{name:<22}{row['items'][0]:>7g} → {row['items'][1]:<6g}{row['cu'][0]:>6.1f} → {row['cu'][1]:<5.1f}"
            f"{row['calls'][1]:>6g}  {row['ms'][0]:>7.1f} → {row['ms'][1]:<7.1f}{row['ratio_ms']:>6.2f}×"
            f"{row['store_ms'][0]:>8.1f} → {row['store_ms'][1]:<7.1f}{row['ratio_store']:>6.2f}×"
        )
    print(
        "in DynamoDB ms: the time the store took to answer the request's calls, as the proxy saw it (the part "
        "that could grow with the table; the rest is the stack's and the function's)."
    )
    return result


# ------------------------------------------------------------------ latency, throughput, races
class Report:
    def __init__(self) -> None:
        self.rows: list[tuple[str, int, list[float], Counter, dict]] = []

    def add(self, name: str, latencies: list[float], recorder: Recorder) -> None:
        calls, capacity, _ = recorder.snapshot()
        self.rows.append((name, len(latencies), latencies, calls, capacity))

    def print(self) -> None:
        print(
            f"\n{'request':<28}{'n':>5}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'max ms':>9}"
            f"{'DDB calls':>11}{'CU':>7}  calls per request"
        )
        for name, n, latencies, calls, capacity in self.rows:
            q = quantiles(latencies)
            per = ", ".join(f"{op} {count / n:g}" for op, count in sorted(calls.items()))
            print(
                f"{name:<28}{n:>5}{q[50]:>9.1f}{q[95]:>9.1f}{q[99]:>9.1f}{max(latencies):>9.1f}"
                f"{sum(calls.values()) / n:>11.2f}{sum(capacity.values()) / n:>7.1f}  {per}"
            )


def function_of(method: str, path: str) -> str:
    """The logical id of the function serving a concrete request, from the route declaration."""
    from clinic import routes

    for route in routes.ROUTES:
        pattern = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(route.path))
        if route.method == method and re.fullmatch(pattern, path.split("?")[0]):
            return f"{route.function}Function"
    raise LookupError(f"no route for {method} {path}")


def measure(
    report: Report, recorder: Recorder, name: str, requests_: list, client: Client, expect: int
) -> list[requests.Response]:
    recorder.reset()
    latencies, responses = [], []
    recorder.only = function_of(*requests_[0][:2])  # its calls, not the stream consumers' meanwhile
    try:
        for method, path, kwargs in requests_:
            response, ms = client.call(method, path, **kwargs)
            if response.status_code != expect:
                raise SystemExit(f"{name}: expected {expect}, got {response.status_code} {response.text}")
            latencies.append(ms)
            responses.append(response)
        report.add(name, latencies, recorder)
    finally:
        recorder.only = None
    return responses


def latency(client: Client, recorder: Recorder) -> None:
    section(
        f"latency: {BOOKINGS} bookings, {READS} reads per kind, one client; throughput with {CLIENTS} clients; "
        f"{RACE_ROUNDS} races of {RACERS}"
    )
    report = Report()
    doctor_body = {
        "given_name": "Bench",
        "family_name": "Doctor",
        "specialty": "Benchmarks",
        "time_zone": "UTC",
        "slot_minutes": 15,
        "working_hours": ALL_DAY,
    }
    doctor = created(client.call("POST", "/doctors", json=doctor_body)[0])
    racing_doctor = created(client.call("POST", "/doctors", json=doctor_body)[0])
    patients = [
        created(
            client.call(
                "POST",
                "/patients",
                json={
                    "given_name": "Bench",
                    "family_name": f"Patient{i}",
                    "birth_date": "1990-01-01",
                    "sex": "unknown",
                },
            )[0]
        )
        for i in range(max(CLIENTS, RACERS))
    ]
    first = (datetime.now(UTC) + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)

    def book(i: int, doctor_id: str = doctor, start: datetime | None = None, patient: str | None = None):
        body = {
            "doctor_id": doctor_id,
            "patient_id": patient or patients[i % len(patients)],
            "start": iso(start or first + i * SLOT),
            "duration_minutes": 15,
        }
        return "POST", "/appointments", {"json": body}

    # Writes, one client.
    booked = measure(report, recorder, "book", [book(i) for i in range(BOOKINGS)], client, 201)
    ids = [r.json()["id"] for r in booked]
    keyed = [
        (
            "POST",
            "/appointments",
            {"json": book(BOOKINGS + i)[2]["json"], "headers": {"Idempotency-Key": str(uuid.uuid4())}},
        )
        for i in range(READS)
    ]
    measure(report, recorder, "book with Idempotency-Key", keyed, client, 201)
    measure(report, recorder, "  same key again (replay)", keyed, client, 201)
    clash = [book(i, patient=patients[(i + 1) % len(patients)]) for i in range(READS)]
    measure(report, recorder, "book a taken slot (409)", clash, client, 409)
    later = first + timedelta(days=30)
    measure(
        report,
        recorder,
        "reschedule",
        [
            ("PATCH", f"/appointments/{a}", {"json": {"start": iso(later + i * SLOT)}})
            for i, a in enumerate(ids[:READS])
        ],
        client,
        200,
    )
    measure(
        report,
        recorder,
        "cancel",
        [("POST", f"/appointments/{a}/cancel", {"json": {"reason": "bench"}}) for a in ids[READS : 2 * READS]],
        client,
        200,
    )

    # Reads, one client.
    window = {"from": iso(first), "to": iso(first + timedelta(days=7))}
    measure(report, recorder, "get appointment", [("GET", f"/appointments/{a}", {}) for a in ids[:READS]], client, 200)
    measure(
        report,
        recorder,
        "doctor schedule (7 days)",
        [("GET", f"/doctors/{doctor}/schedule", {"params": {**window, "limit": 100}})] * READS,
        client,
        200,
    )
    measure(
        report,
        recorder,
        "doctor availability (7 d)",
        [("GET", f"/doctors/{doctor}/availability", {"params": window})] * READS,
        client,
        200,
    )
    measure(
        report,
        recorder,
        "patient appointments",
        [("GET", f"/patients/{patients[0]}/appointments", {"params": {**window, "limit": 100}})] * READS,
        client,
        200,
    )
    measure(report, recorder, "get patient", [("GET", f"/patients/{p}", {}) for p in patients] * 2, client, 200)
    measure(
        report,
        recorder,
        "search patients",
        [("POST", "/patients/search", {"json": {"family_name_prefix": "patient"}})] * READS,
        client,
        200,
    )
    measure(report, recorder, "health", [("GET", "/health", {})] * READS, client, 200)
    report.print()

    # Throughput: CLIENTS clients booking distinct slots, the patients in turn (distinct slots: no patient is
    # in two places; all of them, not CLIENTS of them: BOOKINGS / CLIENTS = 25 bookings each would pass the
    # clinic's limit of 20 open appointments per patient and end as 409 TOO_MANY_APPOINTMENTS).
    offset = first + timedelta(days=60)
    statuses: Counter[int] = Counter()
    latencies: list[float] = []
    lock = threading.Lock()

    def one(i: int) -> None:
        method, path, kwargs = book(i, start=offset + i * SLOT, patient=patients[i % len(patients)])
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
    calls, _, _ = recorder.snapshot()
    print(
        f"\nthroughput: {BOOKINGS} bookings by {CLIENTS} clients in {elapsed:.1f} s"
        f" = {BOOKINGS / elapsed:.0f} bookings/s; "
        f"p50 {q[50]:.0f} ms, p95 {q[95]:.0f} ms, p99 {q[99]:.0f} ms; statuses {dict(statuses)}; "
        f"TransactWriteItems calls {calls['TransactWriteItems']}"
    )

    # Contention: RACERS clients, different patients, one slot; exactly one should win each round.
    print(f"contention: {RACERS} clients racing for one slot, {RACE_ROUNDS} rounds")
    for round_ in range(RACE_ROUNDS):
        slot = first + timedelta(days=90, hours=round_)
        recorder.reset()
        began = time.perf_counter()
        with ThreadPoolExecutor(RACERS) as pool:
            results = list(
                pool.map(
                    lambda i: (
                        client.call(
                            *book(0, racing_doctor, slot, patients[i])[:2],
                            **book(0, racing_doctor, slot, patients[i])[2],
                        )[0].status_code
                    ),
                    range(RACERS),
                )
            )
        elapsed = time.perf_counter() - began
        calls, _, _ = recorder.snapshot()
        print(
            f"  round {round_ + 1}: {dict(sorted(Counter(results).items()))} in {elapsed * 1000:.0f} ms, "
            f"{calls['TransactWriteItems']} transactions"
        )
    print(
        "\nCU = capacity units as DynamoDB Local reports them per request (reads and writes together). "
        "AWS bills each item of a transaction at twice a plain write (2 WRU per KB), which DynamoDB Local "
        "does not model; use the calls per request for the bill."
    )


# ------------------------------------------------------------------ functions: one row each
def probe_environment(logical_id: str, endpoint: str, pycache: Path | None) -> dict[str, str]:
    """The function's template environment (as the stack's workers get it), with compiled bytecode
    kept in ``pycache`` (PYTHONPYCACHEPREFIX) — or, with None, none at all (PYTHONDONTWRITEBYTECODE)."""
    env = worker_environment(tpl.function(logical_id), endpoint)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.pop("PYTHONPYCACHEPREFIX", None)
    if pycache is None:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    else:
        env["PYTHONPYCACHEPREFIX"] = str(pycache)
    return env


def run_probe(args: list[str], env: dict[str, str], options: tuple[str, ...] = ()) -> tuple[dict[str, Any], str]:
    answer = subprocess.run(
        [sys.executable, *options, str(PROBES / "cold_probe.py"), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tempfile.gettempdir(),
    )
    lines = [line for line in answer.stdout.splitlines() if line.startswith("BENCH ")]
    if answer.returncode != 0 or not lines:
        raise SystemExit(
            f"cold-start probe failed ({' '.join(args[:2])}):\n{answer.stdout[-2000:]}\n{answer.stderr[-3000:]}"
        )
    return json.loads(lines[-1][6:]), answer.stderr


class ColdStarts:
    def __init__(self, world: World, recorder: Recorder, endpoint: str, scratch: Path) -> None:
        self.world, self.recorder, self.endpoint, self.scratch = world, recorder, endpoint, scratch
        self.pycache = scratch / "pycache"
        patient = world.calendar["patient"]
        self.baseline_args = ["baseline", tpl.table_name("PatientsTable"), json.dumps({"id": {"S": patient}})]
        self.layers = [str(p) for p in tpl.layer_dirs()]

    def _event_file(self, req: Req) -> str:
        path = self.scratch / f"event-{uuid.uuid4()}.json"
        path.write_text(json.dumps(req.event()))
        return str(path)

    def function_args(self, req: Req) -> list[str]:
        function = tpl.function(req.logical_id)
        return [
            "function",
            str(function.code_dir),
            function.module,
            function.handler,
            self._event_file(req),
            *self.layers,
        ]

    def baseline(self, logical_id: str, pycache: Path | None = None, paths: tuple[str, ...] = ()) -> dict:
        env = probe_environment(logical_id, self.endpoint, pycache if pycache is not None else self.pycache)
        return run_probe([*self.baseline_args, *paths], env)[0]

    def function(
        self,
        req: Req,
        pycache: Path | str | None = "default",
        layers: list[str] | None = None,
        options: tuple[str, ...] = (),
        env: dict[str, str] | None = None,
    ) -> tuple[dict, Counter, str]:
        cache = self.pycache if pycache == "default" else pycache
        env = {**probe_environment(req.logical_id, self.endpoint, cache), **(env or {})}
        args = self.function_args(req)
        if layers is not None:
            args = [*args[:5], *layers]
        self.recorder.reset()
        result, stderr = run_probe(args, env, options)
        calls, _, _ = self.recorder.snapshot()
        if result["status"] != req.expect:
            raise SystemExit(f"{req.function}: first request answered {result['status']}, expected {req.expect}")
        return result, calls, stderr

    def measure(self, function: str) -> dict[str, Any]:
        reqs = self.world.requests(function, COLD_RUNS + 1)
        ours, theirs, first_calls = [], [], []
        for i, req in enumerate(reqs):  # run 0 compiles into the pycache prefix: not counted
            order = ("function", "baseline") if i % 2 else ("baseline", "function")
            for kind in order:
                if kind == "function":
                    result, calls, _ = self.function(req)
                    if i:
                        ours.append(result)
                        first_calls.append(sum(calls.values()))
                else:
                    result = self.baseline(req.logical_id)
                    if i:
                        theirs.append(result)
        cold = statistics.median(r["total_ms"] for r in ours)
        base = statistics.median(r["total_ms"] for r in theirs)
        cpu_ratio = statistics.median(r["cpu_ms"] for r in ours) / statistics.median(r["cpu_ms"] for r in theirs)
        return {
            "cold_ms": cold,
            "base_ms": base,
            "ratio": cold / base,
            "cpu_ratio": cpu_ratio,
            "import_ms": statistics.median(r["import_ms"] for r in ours),
            "first_ms": statistics.median(r["first_ms"] for r in ours),
            "cold_calls": statistics.median(first_calls),
        }


def importtime(stderr: str) -> list[tuple[int, int, str]]:
    """(cumulative µs, self µs, module) from python -X importtime's report."""
    rows = []
    for line in stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            own, cumulative, name = line[len("import time:") :].split("|")
            if own.strip().isdigit():
                rows.append((int(cumulative), int(own), name.rstrip()))
    return rows


def where_cold_start_goes(cold: ColdStarts, function: str, result: dict[str, Any]) -> None:
    req = cold.world.requests(function, 1)[0]
    _, _, ours = cold.function(req, options=("-X", "importtime"))
    env = probe_environment(req.logical_id, cold.endpoint, cold.pycache)
    _, theirs = run_probe(cold.baseline_args, env, ("-X", "importtime"))
    rows, base_rows = importtime(ours), importtime(theirs)
    base_modules = {name.strip() for _, _, name in base_rows}

    def by_package(rows_: list, only_new: bool = False) -> Counter:
        packages: Counter[str] = Counter()
        for _, own, name in rows_:
            if not only_new or name.strip() not in base_modules:
                packages[name.strip().split(".")[0]] += own
        return packages

    total = sum(own for _, own, _ in rows) / 1000
    print(
        f"\nwhere {function}'s cold start goes (python -X importtime, one run; imports "
        f"{total:.0f} ms of its {result['cold_ms']:.0f} ms, the first request {result['first_ms']:.0f} ms):"
    )
    print(
        "  self time by top-level package, ms:  "
        + ", ".join(f"{p} {us / 1000:.0f}" for p, us in by_package(rows).most_common(10))
    )
    only_ours = ", ".join(f"{p} {us / 1000:.0f}" for p, us in by_package(rows, True).most_common(8))
    print(
        f"  the baseline (boto3 + client) imports {sum(o for _, o, _ in base_rows) / 1000:.0f} ms; what only the "
        f"function imports, ms:  {only_ours}"
    )
    biggest = sorted(
        (r for r in rows if not r[2].strip().startswith(("boto3", "botocore", "s3transfer", "urllib3"))), reverse=True
    )[:12]
    print(
        "  largest cumulative imports outside boto3, ms:  "
        + ", ".join(f"{name.strip()} {cum / 1000:.0f}" for cum, _, name in biggest)
    )


def as_deployed(cold: ColdStarts, function: str, runs: int = 3) -> None:
    """The cold start as AWS would run the layer today, beside the bench's setting (compiled bytecode,
    tracing off): template.yaml turns X-Ray tracing on (Tracing: Active, so Powertools' Tracer and the
    X-Ray SDK load at init), and `sam build` ships no .pyc for the layer or its dependencies (the
    standard library keeps its own, as the Lambda runtime's does). Interleaved, median of ``runs``."""
    site = Path(sysconfig.get_paths()["purelib"])
    bare = cold.scratch / "site-packages-without-pyc"
    if not bare.exists():

        def link(source: str, target: str) -> None:
            try:
                os.link(source, target)  # fast, and no disk: the same files without their __pycache__
            except OSError:
                shutil.copy2(source, target)

        shutil.copytree(
            site, bare, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"), copy_function=link, symlinks=True
        )
    tracing = {"POWERTOOLS_TRACE_DISABLED": "false"}
    kinds: dict[str, dict[str, Any]] = {
        "compiled, tracing off (the table above)": {},
        "compiled, tracing on": {"env": tracing},
        "no .pyc, tracing off": {"pycache": None, "layers": [*cold.layers, str(bare)]},
        "no .pyc, tracing on (as deployed today)": {
            "pycache": None,
            "layers": [*cold.layers, str(bare)],
            "env": tracing,
        },
    }
    samples: dict[str, list[float]] = {k: [] for k in [*kinds, "baseline, compiled", "baseline, no .pyc"]}
    for req in cold.world.requests(function, runs * len(kinds)):
        kind = min(kinds, key=lambda k: len(samples[k]))
        samples[kind].append(cold.function(req, **kinds[kind])[0]["total_ms"])
        if len(samples[kind]) > len(samples["baseline, compiled"]):
            samples["baseline, compiled"].append(cold.baseline(req.logical_id)["total_ms"])
            env = probe_environment(req.logical_id, cold.endpoint, None)
            samples["baseline, no .pyc"].append(run_probe([*cold.baseline_args, str(bare)], env)[0]["total_ms"])
    base = statistics.median(samples["baseline, compiled"])
    print(
        f"\n{function}'s cold start as deployed, median of {runs} (interleaved): `sam build`'s python_pip builder "
        "unpacks wheels and copies sources, compiling nothing, so the layer ships no .pyc; template.yaml has "
        "Tracing: Active, so the X-Ray SDK loads at init"
    )
    for kind, values in samples.items():
        print(f"  {kind:<42}{statistics.median(values):>7.0f} ms{statistics.median(values) / base:>7.2f}× baseline")


def warm_overhead(world: World, endpoint: str, scratch: Path, function: str) -> dict[str, Any]:
    """``function``: a route's function or a variant (world.VARIANTS); a keyed one (``+key``) is measured
    with a fresh Idempotency-Key per request."""
    reqs = world.requests(function, 2)
    keyed = function.endswith("+key")
    job = {
        "record": [reqs[0].event(), reqs[1].event()],
        "measure": reqs[1].event(),
        "status": reqs[1].expect,
        "keyed": keyed,
        "iterations": WARM_ITERATIONS,
    }
    job_file, result_file = scratch / f"job-{uuid.uuid4()}.json", scratch / f"result-{uuid.uuid4()}.json"
    job_file.write_text(json.dumps(job))
    logical_id = reqs[0].logical_id
    function_ = tpl.function(logical_id)
    answer = subprocess.run(
        [
            sys.executable,
            str(PROBES / "warm_probe.py"),
            str(function_.code_dir),
            function_.module,
            function_.handler,
            str(job_file),
            str(result_file),
            *(str(p) for p in tpl.layer_dirs()),
        ],
        env=probe_environment(logical_id, endpoint, scratch / "pycache"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        timeout=600,
        cwd=tempfile.gettempdir(),
    )
    if answer.returncode != 0:
        raise SystemExit(f"warm probe of {function} failed:\n{answer.stderr[-3000:]}")
    return json.loads(result_file.read_text())


def over_http(client: Client, recorder: Recorder, world: World, function: str) -> dict[str, Any]:
    """Warm requests over HTTP, one at a time: DynamoDB calls per request (the median, which a settings re-read
    every 5 s per container does not move, and the mean, which it does), capacity, items read, latency.
    ``function``: a route's function or a variant (world.VARIANTS)."""
    reqs = world.requests(function, CALLS + 1)
    client.timed(reqs[0])  # warms the container (its caches), not counted
    latencies, calls, capacity, items, by_op = [], [], [], [], Counter()
    recorder.only = f"{function.partition('+')[0]}Function"  # not the stream consumers its writes wake
    try:
        for req in reqs[1:]:
            recorder.reset()
            latencies.append(client.timed(req))
            ops, units, read = recorder.snapshot()
            calls.append(sum(ops.values()))
            capacity.append(sum(units.values()))
            items.append(sum(read.values()))
            by_op.update(ops)
    finally:
        recorder.only = None
    n = len(latencies)
    return {
        "calls": statistics.median(calls),
        "calls_mean": sum(calls) / n,
        "by_op": {op: c / n for op, c in sorted(by_op.items())},
        "cu": sum(capacity) / n,
        "items": sum(items) / n,
        "p50_ms": statistics.median(latencies),
    }


def functions(
    client: Client,
    recorder: Recorder,
    stack: background.BackgroundStack,
    proxy_url: str,
    size: dict[str, dict[str, Any]],
) -> None:
    from clinic import routes

    section(
        f"functions: cold start (median of {COLD_RUNS} fresh processes each), warm overhead "
        f"({WARM_ITERATIONS} in-process requests each), {CALLS} warm requests each over HTTP"
    )
    world = World(client.send)
    rows: dict[str, dict[str, Any]] = {}
    names = [route.function for route in routes.ROUTES]
    began = time.monotonic()
    for name in [*names, *VARIANTS]:  # variants: rows of their own, without a cold start (their function's)
        rows[name] = {"http": over_http(client, recorder, world, name)}
    rss = workers.peak_rss_by_function(stack.process.pid)
    print(f"  HTTP: {time.monotonic() - began:.0f} s", flush=True)

    began = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="clinic-bench-probes-") as scratch_dir:
        scratch = Path(scratch_dir)
        for name in [*names, *VARIANTS]:
            rows[name]["warm"] = warm_overhead(world, proxy_url, scratch, name)
        print(f"  warm overhead: {time.monotonic() - began:.0f} s", flush=True)
        began = time.monotonic()
        cold = ColdStarts(world, recorder, proxy_url, scratch)
        cold.baseline("HealthFunction")  # compiles boto3 into the prefix: not counted
        for name in names:
            rows[name]["cold"] = cold.measure(name)
        print(f"  cold starts: {time.monotonic() - began:.0f} s", flush=True)

        print_table(rows, rss, size)
        worst = max(names, key=lambda n: rows[n]["cold"]["ratio"])
        where_cold_start_goes(cold, worst, rows[worst]["cold"])
        as_deployed(cold, worst)


def print_table(
    rows: dict[str, dict[str, Any]], rss: dict[str, tuple[float, int]], size: dict[str, dict[str, Any]]
) -> None:
    from clinic import routes

    writes = {r.function for r in routes.ROUTES if r.method != "GET"}
    writes |= {name for name, function in VARIANTS.items() if function in writes}
    width = max(24, *(len(name) + 1 for name in rows))
    print(
        f"\n{'':<{width}}{'cold start (fresh process)':^36}│{'warm overhead (in-process)':^38}│"
        f"{'warm, over HTTP':^24}│{'table size':^20}│"
    )
    print(
        f"{'function':<{width}}{'ms':>6}{'base':>6}{'×base':>7}{'×cpu':>6}{'calls':>6}  │{'ours µs':>8}{'bare µs':>8}"
        f"{'over ms':>8}{'×bare':>6}{'wall':>7} │{'calls':>6}{'CU':>5}{'items':>6}{'p50':>6} │"
        f"{'items':>9}{'× ms':>7}  │{'RSS MB':>7}"
    )
    for name, row in rows.items():
        cold, warm, http = row.get("cold"), row["warm"], row["http"]
        cells = [f"{name:<{width}}"]
        if cold:
            mark = "!" if cold["ratio"] > COLD_RATIO_MAX else " "
            cells.append(
                f"{cold['cold_ms']:>6.0f}{cold['base_ms']:>6.0f}{cold['ratio']:>6.2f}{mark}"
                f"{cold['cpu_ratio']:>6.2f}{cold['cold_calls']:>6g}  │"
            )
        else:
            cells.append(f"{'':>37}  │")
        limit = WRITE_OVERHEAD_MAX_MS if name in writes else READ_OVERHEAD_MAX_MS
        mark = "!" if warm["overhead_ms"] > limit else " "
        cells.append(
            f"{warm['ours_ms'] * 1000:>8.0f}{warm['bare_ms'] * 1000:>8.0f}{warm['overhead_ms']:>7.2f}{mark}"
            f"{warm['ours_ms'] / warm['bare_ms']:>5.0f}×{warm['overhead_wall_ms']:>7.2f} │"
        )
        target = CALL_TARGETS.get(name)
        mark = "!" if target and http["calls"] > target else " "
        cells.append(f"{http['calls']:>5g}{mark}{http['cu']:>5.1f}{http['items']:>6g}{http['p50_ms']:>6.0f} │")
        sized = size.get(name)
        if sized:
            mark = "!" if sized["ratio_ms"] > SIZE_RATIO_MAX or sized["items"][1] != sized["items"][0] else " "
            cells.append(f"{sized['items'][0]:>4g}→{sized['items'][1]:<4g}{sized['ratio_ms']:>6.2f}{mark}  │")
        else:
            cells.append(f"{'':>18}  │")
        peak = rss.get(f"{variants_base(name)}Function")
        cells.append(f"{peak[0]:>7.0f}{'!' if peak[0] > RSS_MAX_MB else ''}" if peak else f"{'':>7}")
        print("".join(cells))
    print(
        "\ncold start: ms = a fresh interpreter importing the function and serving its first request; base = "
        "importing boto3, creating a client, one GetItem (medians); ×base = their ratio (target ≤ 1.3), ×cpu = the "
        "ratio of their CPU times; calls = DynamoDB calls of that first request.\n"
        "warm overhead: CPU time per warm request with DynamoDB stubbed, of the function (ours) and of a bare "
        "handler making the same calls (bare); over = the difference (target ≤ 0.5 ms for reads, ≤ 1 ms for "
        "writes); wall = the same difference in wall-clock time.\n"
        "warm, over HTTP: DynamoDB calls (median), capacity units and items read (means) per warm request, and its "
        "p50 latency (ms) "
        "on the local stack. table size: items read with 1,000 → 100,000 appointments in the table, and the ratio "
        "of latencies (target ≤ 1.1). RSS MB: peak resident memory of the function's workers after its requests "
        "(target ≤ 100). ! marks a missed target."
    )
    summary(rows, rss, size, writes)


def variants_base(name: str) -> str:
    return name.split("+")[0]


def summary(
    rows: dict[str, dict[str, Any]],
    rss: dict[str, tuple[float, int]],
    size: dict[str, dict[str, Any]],
    writes: set[str],
) -> None:
    colds = {n: r["cold"]["ratio"] for n, r in rows.items() if "cold" in r}
    worst_cold = max(colds, key=colds.get)
    over = {
        n: (r["warm"]["overhead_ms"], WRITE_OVERHEAD_MAX_MS if n in writes else READ_OVERHEAD_MAX_MS)
        for n, r in rows.items()
    }
    missed_over = {n: v for n, v in over.items() if v[0] > v[1]}
    missed_calls = {n: rows[n]["http"]["calls"] for n, most in CALL_TARGETS.items() if rows[n]["http"]["calls"] > most}
    means = ", ".join(
        f"{n} {r['http']['calls_mean']:.2f}" for n, r in rows.items() if r["http"]["calls_mean"] != r["http"]["calls"]
    )
    peaks = {n: v[0] for n, v in rss.items()}
    print("\ntargets:")
    over_cold = [f"{n} {v:.2f}×" for n, v in sorted(colds.items(), key=lambda x: -x[1]) if v > COLD_RATIO_MAX]
    print(
        f"  cold start ≤ {COLD_RATIO_MAX}× baseline: {len(colds) - len(over_cold)}/{len(colds)} functions; worst "
        f"{worst_cold} {colds[worst_cold]:.2f}×" + (f"; over: {', '.join(over_cold)}" if over_cold else "")
    )
    over_warm = [f"{n} {v[0]:.2f} ms" for n, v in sorted(missed_over.items(), key=lambda x: -x[1][0])]
    print(
        f"  warm overhead ≤ {READ_OVERHEAD_MAX_MS} ms (reads) / ≤ {WRITE_OVERHEAD_MAX_MS} ms (writes): "
        f"{len(over) - len(missed_over)}/{len(over)}" + (f"; over: {', '.join(over_warm)}" if over_warm else "")
    )
    print(
        f"  DynamoDB calls per warm request: {len(CALL_TARGETS) - len(missed_calls)}/{len(CALL_TARGETS)} targets met"
        + (f"; missed: {missed_calls}" if missed_calls else "")
        + "  ("
        + ", ".join(f"{n} {rows[n]['http']['calls']:g}≤{m}" for n, m in CALL_TARGETS.items())
        + ")"
        + (f"; means, with the settings re-read every 5 s per container: {means}" if means else "")
    )
    if size:
        print(
            f"  table size (items read equal, latency ≤ {SIZE_RATIO_MAX}×): "
            + ", ".join(f"{n} items {s['items'][0]:g}→{s['items'][1]:g}, {s['ratio_ms']:.2f}×" for n, s in size.items())
        )
    if peaks:
        top = max(peaks, key=peaks.get)
        print(
            f"  peak RSS ≤ {RSS_MAX_MB} MB: {sum(v <= RSS_MAX_MB for v in peaks.values())}/{len(peaks)} functions; "
            f"highest {top} {peaks[top]:.0f} MB"
        )


# ------------------------------------------------------------------ contention on hot items
def hot_items(client: Client, recorder: Recorder) -> None:
    section(
        f"hot items: {HOT_CLIENTS} clients booking different 5-minute slots of ONE doctor's same hour vs "
        f"{HOT_CLIENTS} different doctors, {HOT_ROUNDS} rounds each, alternating"
    )
    world = World(client.send, patients=0)
    five = {"slot_minutes": 5, "working_hours": ALL_DAY}
    hot = world.new_doctor(**five)
    spread = [world.new_doctor(**five) for _ in range(HOT_CLIENTS)]
    # Each kind its own patients, a fresh set every 15 rounds: nobody nears the open-appointment limit (20).
    patient_sets: dict[tuple[str, int], list[str]] = {}

    def patients_of(kind: str, r: int) -> list[str]:
        if (kind, r // 15) not in patient_sets:
            patient_sets[(kind, r // 15)] = [world.new_patient() for _ in range(HOT_CLIENTS)]
        return patient_sets[(kind, r // 15)]

    first = world.base + timedelta(days=200)

    def fresh() -> dict[str, Any]:
        return {"statuses": Counter(), "seconds": 0.0, "transactions": 0, "calls": 0, "conflicts": 0, "latencies": []}

    results = {"one doctor": fresh(), "many doctors": fresh()}

    def round_(kind: str, hour: datetime, r: int) -> None:
        patients = patients_of(kind, r)

        def book(i: int) -> tuple[int, float]:
            doctor, start = (hot, hour + timedelta(minutes=5 * i)) if kind == "one doctor" else (spread[i], hour)
            req = Req(
                "BookAppointment",
                "POST",
                "/appointments",
                expect=201,
                body={"doctor_id": doctor, "patient_id": patients[i], "start": iso(start), "duration_minutes": 5},
            )
            method, path, kwargs = req.http()
            response, ms = client.call(method, path, **kwargs)
            return response.status_code, ms

        recorder.reset()
        began = time.perf_counter()
        with ThreadPoolExecutor(HOT_CLIENTS) as pool:
            answers = list(pool.map(book, range(HOT_CLIENTS)))
        elapsed = time.perf_counter() - began
        calls, _, _ = recorder.snapshot()
        got = results[kind]
        got["seconds"] += elapsed
        got["statuses"].update(status for status, _ in answers)
        got["latencies"] += [ms for _, ms in answers]
        got["transactions"] += calls["TransactWriteItems"]
        got["calls"] += sum(calls.values())
        got["conflicts"] += recorder.conflicts

    # Warm-up, not counted: every worker the concurrency needs is started (cold starts), and has read the
    # doctors (a worker keeps the doctors it read: a warm booking is one call).
    for w in range(4):
        round_("one doctor", first - timedelta(days=1, hours=w), 0)
        round_("many doctors", first - timedelta(days=1, hours=w), 0)
    results = {"one doctor": fresh(), "many doctors": fresh()}
    for r in range(HOT_ROUNDS):
        hour = first + timedelta(hours=r)
        kinds = ("one doctor", "many doctors") if r % 2 else ("many doctors", "one doctor")
        for kind in kinds:
            round_(kind, hour, r + 1)
    for kind, got in results.items():
        n = sum(got["statuses"].values())
        q = quantiles(got["latencies"])
        print(
            f"  {kind:<13} {n} bookings in {got['seconds']:.1f} s = {n / got['seconds']:.0f} bookings/s; p50 "
            f"{q[50]:.0f} ms, p95 {q[95]:.0f} ms; statuses {dict(sorted(got['statuses'].items()))}; "
            f"{got['calls'] / n:.2f} DynamoDB calls per booking, {got['transactions']} TransactWriteItems calls, "
            f"{got['conflicts']} cancelled for TransactionConflict"
        )
    print(
        "  DynamoDB Local runs transactions one at a time instead of failing the concurrent ones with "
        "TransactionConflict, so here a hot item costs waiting, never a conflict; DynamoDB itself rejects a "
        "transaction that touches an item another in-flight transaction holds (see docs/capacity.md)."
    )


# ------------------------------------------------------------------ main
def main() -> int:
    print(
        f"bench{' (quick)' if QUICK else ''}: sections {', '.join(SECTIONS)} (Python {sys.version.split()[0]}, "
        f"{os.cpu_count()} CPUs)",
        flush=True,
    )
    started = time.monotonic()
    store = dynamodb.start(port=dynamodb.free_port(), in_memory=True)
    store_ready = time.monotonic() - started
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
    timings = {}
    try:
        print(
            f"store: {store.mode}, up in {store_ready:.1f} s; stack answering /health {stack.started_in_s:.1f} s later"
        )
        client = Client(stack.url)
        size: dict[str, dict[str, Any]] = {}
        for name in SECTIONS:
            began = time.monotonic()
            if name == "size":
                size = table_size(client, recorder, proxy, store)
            elif name == "latency":
                latency(client, recorder)
            elif name == "functions":
                functions(client, recorder, stack, proxy_url, size)
            elif name == "contention":
                hot_items(client, recorder)
            else:
                raise SystemExit(f"unknown section {name!r}")
            timings[name] = time.monotonic() - began
    finally:
        stack.stop()
        proxy.shutdown()
        store.stop()
    sections = ", ".join(f"{k} {v:.0f} s" for k, v in timings.items())
    print(f"\nbench took {time.monotonic() - started:.0f} s: {sections}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
