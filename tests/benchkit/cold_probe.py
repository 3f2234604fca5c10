"""One cold start in a fresh interpreter: run by `make bench` (tests/bench.py), never imported.

    python cold_probe.py function <code_dir> <module> <handler> <event.json> <layer dir>...
    python cold_probe.py baseline <table name> <key as JSON> [<dir put first on sys.path>...]

``function``: sys.path set as Lambda (and local_stack/worker.py) sets it — the function's code, then
the layer — then the module imported and its handler called once on the event: the init and first
request of a new execution environment, against whatever AWS_ENDPOINT_URL_DYNAMODB points at.
``baseline``: what any Python function that reads DynamoDB pays: import boto3, create a client, one
GetItem. Both print one line ``BENCH {json}`` last; the clocks (wall, and the process's CPU time)
start after the same few standard modules, before anything either side needs.

Phases, the same for both: ``import_ms`` (the module, or boto3), then the first request split into
``clients_ms`` (boto3 making clients and resources), ``calls_ms`` (inside botocore's API calls: signing,
HTTP, parsing — and X-Ray's subsegments when tracing is on; ``calls`` counts them) and ``rest_ms`` (the
handler's own code). The timers are put on boto3 after the import, so they time nothing of it.
``gc_ms``: the garbage collector's pauses within all of it, ``gc_first_ms`` those in the first request
(``gc_full``: how many were full collections).

BENCH_TRACE_HEADER, when set, becomes ``_X_AMZN_TRACE_ID`` just before the request, as Lambda sets it
for each invocation of a function with active tracing (it is absent during init).
"""

import gc
import json
import os
import sys
import time

began = time.perf_counter()

# The garbage collector's pauses (ms, and the full collections among them), from the start: a full
# collection walks every object the imports made, so where one falls is part of a phase's time.
collecting = {"gc_ms": 0.0, "gc_full": 0, "_started": 0.0}


def _collection(phase: str, info: dict) -> None:
    if phase == "start":
        collecting["_started"] = time.perf_counter()
    else:
        collecting["gc_ms"] += (time.perf_counter() - collecting["_started"]) * 1000
        collecting["gc_full"] += info.get("generation") == 2


gc.callbacks.append(_collection)


class Context:
    function_name = "bench"
    function_version = "$LATEST"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:000000000000:function:bench"
    aws_request_id = "bench-cold-start"
    log_group_name = "/aws/lambda/bench"
    log_stream_name = "bench"

    def __init__(self) -> None:
        self._deadline = time.monotonic() + 10

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def timers() -> dict:
    """Time boto3's client and resource making and botocore's API calls from now on (outermost only)."""
    import boto3.session
    import botocore.client

    spent = {"clients_ms": 0.0, "calls_ms": 0.0, "calls": 0}
    depth = [0]

    def timed(original, key: str, count: bool = False):
        def wrapper(*args, **kwargs):
            if depth[0]:
                return original(*args, **kwargs)
            depth[0] += 1
            start = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                depth[0] -= 1
                spent[key] += (time.perf_counter() - start) * 1000
                spent["calls"] += count

        return wrapper

    session = boto3.session.Session
    session.client = timed(session.client, "clients_ms")
    session.resource = timed(session.resource, "clients_ms")
    client = botocore.client.BaseClient
    client._make_api_call = timed(client._make_api_call, "calls_ms", count=True)
    return spent


def invocation() -> None:
    header = os.environ.pop("BENCH_TRACE_HEADER", None)
    if header:
        os.environ["_X_AMZN_TRACE_ID"] = header


def function(code_dir: str, module_name: str, handler_name: str, event_file: str, *layers: str) -> dict:
    with open(event_file, encoding="utf-8") as handle:
        event = json.load(handle)
    sys.path[:] = [code_dir, *layers, *sys.path[1:]]
    cpu, start = time.process_time(), time.perf_counter()
    module = __import__(module_name)
    handler = getattr(module, handler_name)
    imported = time.perf_counter()
    gc_at_import = collecting["gc_ms"]
    spent = timers()
    invocation()
    request = time.perf_counter()
    response = handler(event, Context())
    done = time.perf_counter()
    return result(start, imported, done, cpu, spent, request, response.get("statusCode"), gc_at_import)


def baseline(table: str, key: str, *paths: str) -> dict:
    sys.path[:] = [*paths, *sys.path[1:]]
    cpu, start = time.process_time(), time.perf_counter()
    import boto3

    imported = time.perf_counter()
    gc_at_import = collecting["gc_ms"]
    spent = timers()
    invocation()
    request = time.perf_counter()
    client = boto3.client("dynamodb")
    client.get_item(TableName=table, Key=json.loads(key))
    done = time.perf_counter()
    return result(start, imported, done, cpu, spent, request, 200, gc_at_import)


def result(start, imported, done, cpu, spent, request, status, gc_at_import) -> dict:
    timing_cost = request - imported  # putting the timers on: not the function's
    first = (done - request) * 1000
    return {
        "gc_ms": collecting["gc_ms"],
        "gc_first_ms": collecting["gc_ms"] - gc_at_import,
        "gc_full": collecting["gc_full"],
        "import_ms": (imported - start) * 1000,
        "first_ms": first,
        "total_ms": (done - start - timing_cost) * 1000,
        "cpu_ms": (time.process_time() - cpu) * 1000 - timing_cost * 1000,
        "clients_ms": spent["clients_ms"],
        "calls_ms": spent["calls_ms"],
        "calls": spent["calls"],
        "rest_ms": first - spent["clients_ms"] - spent["calls_ms"],
        "status": status,
        "modules": len(sys.modules),
    }


if __name__ == "__main__":
    kind, *args = sys.argv[1:]
    outcome = function(*args) if kind == "function" else baseline(*args)
    outcome["since_probe_start_ms"] = (time.perf_counter() - began) * 1000
    sys.stdout.flush()
    print("BENCH " + json.dumps(outcome), flush=True)
