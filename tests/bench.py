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
           - cold start, in two forms, each against the same baseline, interleaved (median of
             BENCH_COLD_RUNS each; see "Cold starts" below): as shipped (the bytecode `sam build`
             makes, tracing as template.yaml sets it) and compiled but untraced;
           - warm overhead: our code's time per request in-process with DynamoDB stubbed at
             botocore's _make_api_call (tests/benchkit/warm_probe.py), vs a bare handler making the
             same calls; medians of BENCH_WARM_ITERATIONS, interleaved;
           - DynamoDB calls, capacity and items read per warm request, and its latency, over HTTP;
           - peak RSS (VmHWM) of the function's worker processes in the stack, after its requests;
           then where the cold starts go, phase by phase, for every function over a target.
scale      issue 19's rows (tests/benchkit/scale.py): one doctor's availability over 14 days, the earliest
           search over 20 and over 200 doctors at one location (and over 200 whose first slot is days
           in), a booking that takes a room, the day sheet of a location with 300 appointments: our CPU
           per request (the warm probe: DynamoDB stubbed), DynamoDB calls, items read and latency over HTTP.
cold       the functions section's cold starts alone (not in the default list): BENCH_SECTIONS=cold.
contention hot items: clients booking different slots of ONE doctor's same UTC hour (one slot-lock
           item, one doctor item) vs the same number of clients booking different doctors.

Cold starts: the layer and the functions are built by infra/build/Makefile — the targets `sam build`
runs (their BuildMethod: makefile), with the runtime's Python (python3.12) — for this machine's platform
(tests/benchkit/shipped.py): the same sources and checked-hash .pyc files as the deployed artefacts,
only the native extensions are this machine's. A fresh interpreter of the runtime's Python (-S: nothing
of this machine's site-packages), writing no bytecode (as on Lambda's read-only file system), imports a
function from them and serves its first request against the store (tests/benchkit/cold_probe.py):
- shipped: tracing as the template sets it (Tracing: Active: the X-Ray SDK loads at init, the
  invocation carries a sampled trace header, subsegments go to a stand-in X-Ray daemon, counted);
- untraced: the same artefacts, POWERTOOLS_TRACE_DISABLED=true;
- baseline: the bare function shipped the same way: boto3 from the same built layer, a client, one
  GetItem (active tracing costs a bare function nothing in its process).
Each phase is timed: the import, boto3's clients, the DynamoDB calls, the rest of the first request.

It prints figures and asserts nothing about time: wall-clock numbers depend on the machine. (The
local stack runs the functions in worker processes on this machine; AWS adds network hops and
removes the proxy, so read the figures as relative costs, not as production latencies.) Knobs:

    BENCH_QUICK=1            quick run: 10,000 instead of 100,000 appointments, N=3 cold runs, fewer requests
    BENCH_SECTIONS=...       size,latency,functions,scale,contention (default: all); cold: cold starts only
    BENCH_FUNCTIONS=A,B      the cold section: these functions only (route names, e.g. BookAppointment)
    RUNTIME_PYTHON=...       the runtime's interpreter, if not pyenv's python3.12 or one on PATH
    BENCH_COLD_RUNS=5        fresh processes per function (and as many baseline processes)
    BENCH_WARM_ITERATIONS=300  in-process requests per function (and as many bare ones)
    BENCH_CALLS=10           warm requests per function over HTTP
    BENCH_PROFILE=25         print the warm probe's cProfile (that many lines) of every measured row
    BENCH_SIZE=100000 BENCH_SIZE_SMALL=1000 BENCH_SIZE_ROUNDS=40
    BENCH_BOOKINGS=200 BENCH_CLIENTS=8 BENCH_READS=100 BENCH_HOT_CLIENTS=12 BENCH_HOT_ROUNDS=10
"""

from __future__ import annotations

import http.client
import json
import os
import re
import socket
import statistics
import subprocess
import sys
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
from tests.benchkit import bulk, scale, shipped, workers
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
SECTIONS = [
    s.strip() for s in (os.environ.get("BENCH_SECTIONS") or "size,latency,functions,scale,contention").split(",")
]
ONLY = {f.strip() for f in (os.environ.get("BENCH_FUNCTIONS") or "").split(",") if f.strip()}
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
# The targets.
COLD_RATIO_MAX, READ_OVERHEAD_MAX_MS, WRITE_OVERHEAD_MAX_MS, SIZE_RATIO_MAX, RSS_MAX_MB = 1.3, 0.5, 1.0, 1.1, 100
SHIPPED_RATIO_MAX = 1.5  # the cold start as shipped (bytecode, tracing as the template sets it)
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
    kept in ``pycache`` (PYTHONPYCACHEPREFIX) — or, with None, none written (PYTHONDONTWRITEBYTECODE:
    what exists is read, as on Lambda's read-only file system)."""
    env = worker_environment(tpl.function(logical_id), endpoint)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.pop("PYTHONPYCACHEPREFIX", None)
    if pycache is None:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    else:
        env["PYTHONPYCACHEPREFIX"] = str(pycache)
    return env


def run_probe(
    args: list[str], env: dict[str, str], options: tuple[str, ...] = (), python: str = sys.executable
) -> tuple[dict[str, Any], str]:
    answer = subprocess.run(
        [python, *options, str(PROBES / "cold_probe.py"), *args],
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


class XRayDaemon:
    """A stand-in for the X-Ray daemon (UDP): what a traced cold start sends, counted by name — proof
    that tracing traced, and part of its cost (each subsegment is one datagram, as in Lambda)."""

    def __init__(self) -> None:
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.socket.bind(("127.0.0.1", 0))
        self.address = f"127.0.0.1:{self.socket.getsockname()[1]}"
        self.names: Counter[str] = Counter()
        self.documents = 0
        threading.Thread(target=self._receive, daemon=True).start()

    def _receive(self) -> None:
        while True:
            try:
                data = self.socket.recv(65536)
            except OSError:
                return
            for line in data.decode("utf-8", "replace").splitlines()[1:]:  # a header line, then the document
                try:
                    document = json.loads(line)
                except ValueError:
                    continue
                self.documents += 1
                self.names[document.get("name", "?")] += 1
                for sub in document.get("subsegments") or []:
                    self.names[sub.get("name", "?")] += 1

    def close(self) -> None:
        self.socket.close()


TRACE_HEADER = "Root=1-65f00000-0123456789abcdef01234567;Parent=0123456789abcdef;Sampled=1"
FORMS = ("shipped", "untraced")


class ColdStarts:
    """Cold starts of the artefacts as `sam build` makes them (tests/benchkit/shipped.py), run by the
    runtime's Python with nothing written (PYTHONDONTWRITEBYTECODE, as on Lambda's read-only disk), in
    two forms against one baseline, interleaved:
    - shipped: tracing as template.yaml sets it (Tracing: Active: Powertools' Tracer and the X-Ray SDK
      load at init, each invocation carries a sampled trace header, subsegments go to a daemon);
    - untraced: the same artefacts, tracing off;
    - baseline: the bare function shipped the same way: boto3 from the same built layer (the same
      bytecode), a client, one GetItem. Lambda's own trace segments are outside the process, so active
      tracing costs a bare function nothing here.
    The probes talk to the store directly (no recording proxy in between) and count their calls themselves.
    """

    def __init__(self, world: World, endpoint: str, scratch: Path, artefacts: shipped.Artefacts) -> None:
        self.world, self.endpoint, self.scratch, self.artefacts = world, endpoint, scratch, artefacts
        patient = world.calendar["patient"]
        self.layers = [str(artefacts.layer(logical_id)) for logical_id in shipped.layers()]
        self.baseline_args = [
            "baseline",
            tpl.table_name("PatientsTable"),
            json.dumps({"id": {"S": patient}}),
            *self.layers,
        ]
        self.xray = XRayDaemon()

    def _event_file(self, req: Req) -> str:
        path = self.scratch / f"event-{uuid.uuid4()}.json"
        path.write_text(json.dumps(req.event()))
        return str(path)

    def environment(self, logical_id: str, form: str) -> dict[str, str]:
        env = probe_environment(logical_id, self.endpoint, None)
        if form == "shipped" and shipped.tracing_active(logical_id):
            env.pop("POWERTOOLS_TRACE_DISABLED", None)  # the template does not set it: tracing is on
            env.update(
                {  # what Lambda sets for a function with active tracing
                    "LAMBDA_TASK_ROOT": str(self.artefacts.function(logical_id)),
                    "AWS_XRAY_DAEMON_ADDRESS": self.xray.address,
                    "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
                    "BENCH_TRACE_HEADER": TRACE_HEADER,  # cold_probe.py: _X_AMZN_TRACE_ID for the invocation
                }
            )
        return env

    # -S: no site-packages of this machine's interpreter (nor its .pth files) on sys.path or in the
    # timings; like Lambda: the function, the layer and the standard library.
    OPTIONS = ("-S",)

    def baseline(self, logical_id: str, options: tuple[str, ...] = ()) -> tuple[dict, str]:
        env = probe_environment(logical_id, self.endpoint, None)
        return run_probe(self.baseline_args, env, (*self.OPTIONS, *options), self.artefacts.python)

    def function(self, req: Req, form: str, options: tuple[str, ...] = ()) -> tuple[dict, str]:
        function = tpl.function(req.logical_id)
        args = [
            "function",
            str(self.artefacts.function(req.logical_id)),
            function.module,
            function.handler,
            self._event_file(req),
            *self.layers,
        ]
        env = self.environment(req.logical_id, form)
        result, stderr = run_probe(args, env, (*self.OPTIONS, *options), self.artefacts.python)
        if result["status"] != req.expect:
            raise SystemExit(f"{req.function}: first request answered {result['status']}, expected {req.expect}")
        return result, stderr

    def measure(self, function: str) -> dict[str, Any]:
        reqs = iter(self.world.requests(function, len(FORMS) * (COLD_RUNS + 1)))  # a request of its own each
        kinds = ("baseline", *FORMS)
        samples: dict[str, list[dict]] = {kind: [] for kind in kinds}
        for i in range(COLD_RUNS + 1):  # run 0 warms the disk cache for the files: not counted
            for kind in kinds[i % 3 :] + kinds[: i % 3]:  # each kind first, second and third in turn
                if kind == "baseline":  # the same GetItem of the world's patient every time
                    result = self.baseline(f"{function}Function")[0]
                else:
                    result = self.function(next(reqs), kind)[0]
                if i:
                    samples[kind].append(result)
        medians = {kind: phases(values) for kind, values in samples.items()}
        base = medians["baseline"]
        return {
            "base": base,
            **{form: {**medians[form], "ratio": medians[form]["total_ms"] / base["total_ms"]} for form in FORMS},
        }


PHASES = (
    "import_ms",
    "clients_ms",
    "calls_ms",
    "rest_ms",
    "total_ms",
    "cpu_ms",
    "calls",
    "gc_ms",
    "gc_first_ms",
    "gc_full",
)


def phases(results: list[dict]) -> dict[str, float]:
    return {key: statistics.median(r[key] for r in results) for key in PHASES}


def importtime(stderr: str) -> list[tuple[int, int, str]]:
    """(cumulative µs, self µs, module) from python -X importtime's report."""
    rows = []
    for line in stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            own, cumulative, name = line[len("import time:") :].split("|")
            if own.strip().isdigit():
                rows.append((int(cumulative), int(own), name.rstrip()))
    return rows


# What an import is, for the phases: the first matching prefix names the group.
IMPORT_GROUPS = (
    ("boto3, botocore", ("boto3", "botocore", "s3transfer", "urllib3", "jmespath", "dateutil", "six")),
    ("X-Ray SDK, wrapt", ("aws_xray_sdk", "wrapt")),
    ("Powertools", ("aws_lambda_powertools",)),
    ("pydantic", ("pydantic", "pydantic_core", "annotated_types", "typing_inspection", "typing_extensions")),
    ("clinic.models", ("clinic.models", "clinic.fhir.models")),
    ("clinic (the rest)", ("clinic", "app")),
)


def import_groups(rows: list[tuple[int, int, str]]) -> Counter:
    """Self time (ms) of the modules imported, by group; standard-library modules are charged to no group
    but "stdlib" (asyncio, for instance, which the X-Ray SDK pulls in, lands there)."""
    groups: Counter[str] = Counter()
    for _, own, name in rows:
        name = name.strip()
        group = next(
            (g for g, prefixes in IMPORT_GROUPS if any(name == p or name.startswith(p + ".") for p in prefixes)),
            "stdlib",
        )
        groups[group] += own / 1000
    return groups


def where_cold_starts_go(cold: ColdStarts, rows: dict[str, dict[str, Any]], names: list[str]) -> None:
    """Phase by phase, for every function over a target (or the worst of each form when none is): the
    medians of the measured runs, and what the imports are (python -X importtime, one run each)."""
    measured = {n: rows[n]["cold"] for n in names}
    over = [
        n
        for n in names
        if measured[n]["shipped"]["ratio"] > SHIPPED_RATIO_MAX or measured[n]["untraced"]["ratio"] > COLD_RATIO_MAX
    ]
    worst = {max(names, key=lambda n: measured[n][form]["ratio"]) for form in FORMS}
    shown = over or sorted(worst)
    which = "the functions over a target" if over else "the worst of each form"
    print(
        f"\nwhere the cold starts go, phase by phase ({which}; medians, ms; imports by group from "
        "python -X importtime, one run each):"
    )
    header = (
        f"  {'':<40}{'total':>7}{'import':>8}{'clients':>9}{'calls':>7}{'(n)':>4}{'rest':>6}{'gc':>5}"
        "   imports by group"
    )
    print(header)

    def line(label: str, m: dict[str, float], groups: Counter) -> None:
        top = ", ".join(f"{g} {ms:.0f}" for g, ms in groups.most_common() if ms >= 1)
        print(
            f"  {label:<40}{m['total_ms']:>7.0f}{m['import_ms']:>8.0f}{m['clients_ms']:>9.0f}{m['calls_ms']:>7.0f}"
            f"{m['calls']:>4g}{m['rest_ms']:>6.0f}{m['gc_ms']:>5.0f}   {top}"
        )

    base_groups = import_groups(importtime(cold.baseline(f"{names[0]}Function", ("-X", "importtime"))[1]))
    base = {key: statistics.median(m["base"][key] for m in measured.values()) for key in PHASES}
    line("baseline (boto3, a client, GetItem)", base, base_groups)
    for name in shown:
        reqs = cold.world.requests(name, len(FORMS))
        for form, req in zip(FORMS, reqs, strict=True):
            m = rows[name]["cold"][form]
            groups = import_groups(importtime(cold.function(req, form, ("-X", "importtime"))[1]))
            line(f"{name} {form} ({m['ratio']:.2f}×)", m, groups)
    print(
        "  (import: the module's import, -X importtime's own overhead not in the medians; clients: boto3 making "
        "clients and resources; calls: inside botocore's API calls, X-Ray's subsegments included; rest: the "
        "handler's own code in the first request; gc: the garbage collector's pauses within all of these. "
        "The baseline: the median of every function's baseline runs.)"
    )
    received = ", ".join(f"{name} ×{n}" for name, n in cold.xray.names.most_common(6))
    print(f"  X-Ray: {cold.xray.documents} documents received from the traced cold starts ({received or 'none'})")


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
        env={
            **probe_environment(logical_id, endpoint, scratch / "pycache"),
            **({"BENCH_PROFILE": os.environ["BENCH_PROFILE"]} if os.environ.get("BENCH_PROFILE") else {}),
        },
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        timeout=600,
        cwd=tempfile.gettempdir(),
    )
    if answer.returncode != 0:
        raise SystemExit(f"warm probe of {function} failed:\n{answer.stderr[-3000:]}")
    if os.environ.get("BENCH_PROFILE"):  # the probe's cProfile of our code, per row
        print(f"--- profile of {function} (BENCH_PROFILE)\n{answer.stderr}", file=sys.stderr)
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


def shipped_artefacts(scratch: Path, names: list[str]) -> shipped.Artefacts:
    """The layer and the functions built by infra/build/Makefile, as `sam build` runs it, for this machine."""
    python = shipped.runtime_python()
    runtime = shipped.runtime()
    if python is None:
        raise SystemExit(f"make bench needs {runtime} (the functions' runtime) to build them as `sam build` does")
    began = time.monotonic()
    functions_ = [tpl.function(f"{name}Function").logical_id for name in names]
    artefacts = shipped.build(scratch / "shipped", python, functions_)
    checked = shipped.check_bytecode(python, artefacts.root)
    if checked["problems"]:
        problems = "\n".join(checked["problems"])
        raise SystemExit(f"the built artefacts' bytecode is not what Lambda would load:\n{problems}")
    print(
        f"  built the layer and {len(functions_)} functions with infra/build/Makefile for this machine, run by "
        f"{python} ({checked['sources']} sources, each with its checked-hash {checked['tag']} .pyc): "
        f"{time.monotonic() - began:.0f} s",
        flush=True,
    )
    return artefacts


def cold_starts(world: World, store_url: str, scratch: Path, names: list[str]) -> tuple[dict[str, dict], ColdStarts]:
    began = time.monotonic()
    artefacts = shipped_artefacts(scratch, names)
    cold = ColdStarts(world, store_url, scratch, artefacts)
    rows = {name: {"cold": cold.measure(name)} for name in names}
    print(f"  cold starts: {time.monotonic() - began:.0f} s", flush=True)
    return rows, cold


def functions(
    client: Client,
    recorder: Recorder,
    stack: background.BackgroundStack,
    proxy_url: str,
    store_url: str,
    size: dict[str, dict[str, Any]],
) -> None:
    from clinic import routes

    section(
        f"functions: cold start (median of {COLD_RUNS} fresh processes each, two forms), warm overhead "
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
        colds, cold = cold_starts(world, store_url, scratch, names)
        for name, row in colds.items():
            rows[name].update(row)
        print_table(rows, rss, size)
        where_cold_starts_go(cold, rows, names)
        cold.xray.close()


# The targets for the scale rows: our CPU per warm request (ms) and DynamoDB calls per request.
SCALE_CPU_MAX = {"DoctorAvailability+14d": 1.0, f"EarliestAvailability+{scale.DOCTORS}": 20.0}
SCALE_CALLS_MAX = {"BookAppointment+room": 2}


def at_scale(client: Client, recorder: Recorder, proxy_url: str) -> None:
    """Issue 19's rows: what a search across many doctors, a room booking and a full day sheet cost."""
    section(
        f"scale: {scale.DOCTORS} doctors at one location, a day of {scale.DAY_SHEET} appointments, rooms "
        f"(our CPU: median of {WARM_ITERATIONS} in-process requests, DynamoDB stubbed; {CALLS} over HTTP)"
    )
    world = scale.ScaleWorld(client.send)
    began = time.monotonic()
    for name in scale.ROWS:
        world.requests(name, 1)  # builds what the row needs, through the API
    print(f"  set up through the API: {time.monotonic() - began:.0f} s", flush=True)
    print(
        f"  {'':<66} {'ours CPU':>9} {'total':>7} {'calls':>6} {'items':>6} {'p50 HTTP':>9}  target\n"
        f"  {'':<66} {'ms':>9} {'ms':>7} {'':>6} {'':>6} {'ms':>9}"
    )
    calls: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="clinic-bench-scale-") as scratch_dir:
        for name, what in scale.ROWS.items():
            http = over_http(client, recorder, world, name)
            warm = warm_overhead(world, proxy_url, Path(scratch_dir), name)
            calls[name] = http["calls"]
            targets = []
            if name in SCALE_CPU_MAX:
                met = warm["overhead_ms"] <= SCALE_CPU_MAX[name]
                targets.append(f"≤ {SCALE_CPU_MAX[name]:g} ms CPU {'met' if met else 'MISSED'}")
            if name in SCALE_CALLS_MAX:
                met = http["calls"] <= SCALE_CALLS_MAX[name]
                targets.append(f"≤ {SCALE_CALLS_MAX[name]} calls {'met' if met else 'MISSED'}")
            print(
                f"  {what:<66} {warm['overhead_ms']:>9.2f} {warm['ours_ms']:>7.2f} {http['calls']:>6g} "
                f"{http['items']:>6.0f} {http['p50_ms']:>9.1f}  {', '.join(targets)}"
            )
            print(f"  {'':<66} {' '.join(warm['operations'])}", flush=True)
    small, large = (calls[f"EarliestAvailability+{n}"] for n in (scale.SMALL, scale.DOCTORS))
    print(
        f"  the search's DynamoDB calls: {small:g} over {scale.SMALL} doctors, {large:g} over {scale.DOCTORS} "
        f"({'they do not grow with the doctors' if large <= small else 'MISSED: they grow with the doctors'}); "
        "'ours CPU' is our code's time beyond a bare handler making the same calls"
    )


def cold_only(client: Client, store_url: str) -> None:
    """BENCH_SECTIONS=cold: the functions section's cold starts alone (no HTTP, no warm overhead)."""
    from clinic import routes

    section(f"cold starts only (median of {COLD_RUNS} fresh processes each, two forms, interleaved)")
    world = World(client.send)
    names = [route.function for route in routes.ROUTES if not ONLY or route.function in ONLY]
    with tempfile.TemporaryDirectory(prefix="clinic-bench-probes-") as scratch_dir:
        rows, cold = cold_starts(world, store_url, Path(scratch_dir), names)
        width = max(24, *(len(name) + 1 for name in rows))
        print(f"\n{'':<{width}}{'cold start (fresh process)':^45}│\n{'function':<{width}}{COLD_HEADER}")
        for name, row in rows.items():
            print(f"{name:<{width}}{cold_cells(row['cold'])}")
        print("\n" + COLD_LEGEND + "\n\ntargets:")
        cold_summary(rows)
        where_cold_starts_go(cold, rows, names)
        cold.xray.close()


COLD_HEADER = f"{'shipped':>8}{'×base':>6} {'untraced':>9}{'×base':>6} {'base':>6}{'calls':>6}  │"
COLD_LEGEND = (
    f"cold start: a fresh interpreter (the runtime's Python, {shipped.runtime()}) importing the function as "
    "`sam build` makes it (infra/build/Makefile, built for this machine) and serving its first request. shipped = "
    "its bytecode and tracing as template.yaml sets it (X-Ray active: the SDK loads, the request is sampled and "
    f"traced); untraced = the same, tracing off; base = the bare function shipped the same way (boto3 from the "
    f"same built layer, a client, one GetItem); ms, medians, interleaved; ×base = the ratio (targets: shipped ≤ "
    f"{SHIPPED_RATIO_MAX}, untraced ≤ {COLD_RATIO_MAX}); calls = DynamoDB calls of the first request."
)


def cold_cells(cold: dict[str, Any]) -> str:
    shipped_, untraced = cold["shipped"], cold["untraced"]
    mark_shipped = "!" if shipped_["ratio"] > SHIPPED_RATIO_MAX else " "
    mark_untraced = "!" if untraced["ratio"] > COLD_RATIO_MAX else " "
    return (
        f"{shipped_['total_ms']:>8.0f}{shipped_['ratio']:>6.2f}{mark_shipped}{untraced['total_ms']:>9.0f}"
        f"{untraced['ratio']:>6.2f}{mark_untraced}{cold['base']['total_ms']:>6.0f}{untraced['calls']:>6g}  │"
    )


def cold_summary(rows: dict[str, dict[str, Any]]) -> None:
    for form, limit, what in (
        ("shipped", SHIPPED_RATIO_MAX, "as shipped (bytecode, tracing as the template sets it)"),
        ("untraced", COLD_RATIO_MAX, "compiled, untraced"),
    ):
        ratios = {n: r["cold"][form]["ratio"] for n, r in rows.items() if "cold" in r}
        worst = max(ratios, key=ratios.get)
        over = [f"{n} {v:.2f}×" for n, v in sorted(ratios.items(), key=lambda x: -x[1]) if v > limit]
        print(
            f"  cold start {what} ≤ {limit}× baseline: {len(ratios) - len(over)}/{len(ratios)} functions; worst "
            f"{worst} {ratios[worst]:.2f}×" + (f"; over: {', '.join(over)}" if over else "")
        )


def print_table(
    rows: dict[str, dict[str, Any]], rss: dict[str, tuple[float, int]], size: dict[str, dict[str, Any]]
) -> None:
    from clinic import routes

    writes = {r.function for r in routes.ROUTES if r.method != "GET"}
    writes |= {name for name, function in VARIANTS.items() if function in writes}
    width = max(24, *(len(name) + 1 for name in rows))
    print(
        f"\n{'':<{width}}{'cold start (fresh process)':^45}│{'warm overhead (in-process)':^38}│"
        f"{'warm, over HTTP':^24}│{'table size':^20}│"
    )
    print(
        f"{'function':<{width}}{COLD_HEADER}{'ours µs':>8}{'bare µs':>8}"
        f"{'over ms':>8}{'×bare':>6}{'wall':>7} │{'calls':>6}{'CU':>5}{'items':>6}{'p50':>6} │"
        f"{'items':>9}{'× ms':>7}  │{'RSS MB':>7}"
    )
    for name, row in rows.items():
        cold, warm, http = row.get("cold"), row["warm"], row["http"]
        cells = [f"{name:<{width}}"]
        cells.append(cold_cells(cold) if cold else f"{'':>43}  │")
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
        "\n" + COLD_LEGEND + "\n"
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
    cold_summary(rows)
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
                functions(client, recorder, stack, proxy_url, store.endpoint, size)
            elif name == "cold":
                cold_only(client, store.endpoint)
            elif name == "scale":
                at_scale(client, recorder, proxy_url)
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
