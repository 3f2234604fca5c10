"""One cold start in a fresh interpreter: run by `make bench` (tests/bench.py), never imported.

    python cold_probe.py function <code_dir> <module> <handler> <event.json> <layer dir>...
    python cold_probe.py baseline <table name> <key as JSON> [<dir put first on sys.path>...]

``function``: sys.path set as Lambda (and local_stack/worker.py) sets it — the function's code, then
the layer — then the module imported and its handler called once on the event: the init and first
request of a new execution environment, against whatever AWS_ENDPOINT_URL_DYNAMODB points at.
``baseline``: what any Python function that reads DynamoDB pays: import boto3, create a client, one
GetItem. Both print one line ``BENCH {json}`` last; the clocks (wall, and the process's CPU time)
start after the same few standard modules, before anything either side needs.
"""

import json
import sys
import time

began = time.perf_counter()


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


def function(code_dir: str, module_name: str, handler_name: str, event_file: str, *layers: str) -> dict:
    with open(event_file, encoding="utf-8") as handle:
        event = json.load(handle)
    sys.path[:] = [code_dir, *layers, *sys.path[1:]]
    cpu, start = time.process_time(), time.perf_counter()
    module = __import__(module_name)
    handler = getattr(module, handler_name)
    imported = time.perf_counter()
    response = handler(event, Context())
    done = time.perf_counter()
    return {
        "import_ms": (imported - start) * 1000,
        "first_ms": (done - imported) * 1000,
        "total_ms": (done - start) * 1000,
        "cpu_ms": (time.process_time() - cpu) * 1000,
        "status": response.get("statusCode"),
        "modules": len(sys.modules),
    }


def baseline(table: str, key: str, *paths: str) -> dict:
    sys.path[:] = [*paths, *sys.path[1:]]
    cpu, start = time.process_time(), time.perf_counter()
    import boto3

    client = boto3.client("dynamodb")
    imported = time.perf_counter()
    client.get_item(TableName=table, Key=json.loads(key))
    done = time.perf_counter()
    return {
        "import_ms": (imported - start) * 1000,
        "first_ms": (done - imported) * 1000,
        "total_ms": (done - start) * 1000,
        "cpu_ms": (time.process_time() - cpu) * 1000,
        "status": 200,
        "modules": len(sys.modules),
    }


if __name__ == "__main__":
    kind, *args = sys.argv[1:]
    result = function(*args) if kind == "function" else baseline(*args)
    result["since_probe_start_ms"] = (time.perf_counter() - began) * 1000
    sys.stdout.flush()
    print("BENCH " + json.dumps(result), flush=True)
