"""The warm overhead of one function: our code's time per request, DynamoDB's taken out. Run by
`make bench` in a process of its own (the function's template environment, the layer on sys.path),
never imported.

    python warm_probe.py <code_dir> <module> <handler> <job.json> <result.json> <layer dir>...

job.json: {"record": [event, event], "measure": event, "status": int, "keyed": bool, "iterations": int}

1. Record: the two ``record`` events are served against the real store (AWS_ENDPOINT_URL_DYNAMODB):
   the first warms the container (doctor and settings caches, clients), the second is a warm request
   whose DynamoDB calls and answers are kept, as botocore's ``_make_api_call`` returned them.
2. Stub: ``BaseClient._make_api_call`` is replaced by a lookup of those answers (by operation, table
   and index, in call order), so a DynamoDB call costs nothing: no serialisation, signing, HTTP or
   parsing — only the code around the calls is left.
3. Measure, alternating: the function's handler on ``measure`` (a fresh request id, and a fresh
   Idempotency-Key when keyed), and a bare handler that parses the body, makes the same calls through a
   plain boto3 client (same stub) and dumps the same answer — the least any handler doing that work
   can cost. Medians of ``iterations`` each; the difference is our overhead. Timed in CPU time of the
   thread (what the code costs, whatever else the shared machine runs) and in wall time.
"""

import copy
import json
import os
import statistics
import sys
import time
import uuid


class Context:
    function_name = "bench"
    function_version = "$LATEST"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:000000000000:function:bench"
    aws_request_id = "bench-warm"
    log_group_name = "/aws/lambda/bench"
    log_stream_name = "bench"

    def get_remaining_time_in_millis(self) -> int:
        return 9_000


def _table(params: dict) -> str:
    if "TableName" in params:
        return params["TableName"]
    if "TransactItems" in params:
        return next(iter(params["TransactItems"][0].values()))["TableName"]
    return ",".join(sorted(params.get("RequestItems", {})))


def _key(operation: str, params: dict) -> tuple[str, str, str]:
    return operation, _table(params), params.get("IndexName") or ""


class Stub:
    """Canned DynamoDB answers: per (operation, table, index), the recorded answers in call order."""

    def __init__(self, warm: list, cold: list) -> None:
        self.answers: dict[tuple, list] = {}
        for operation, params, answer in warm:
            self.answers.setdefault(_key(operation, params), []).append(answer)
        for operation, params, answer in cold:  # e.g. the settings, re-read when the cache expires
            self.answers.setdefault(_key(operation, params), []).append(answer)
        self.calls = 0
        self.ready: dict[tuple, list] = {}

    def prepare(self) -> None:
        """Fresh copies of every answer, made before the clock starts (a caller may keep or change one)."""
        self.ready = {key: [copy.deepcopy(a) for a in answers] for key, answers in self.answers.items()}
        self.calls = 0

    def __call__(self, client, operation: str, params: dict) -> dict:
        self.calls += 1
        key = _key(operation, params)
        ready = self.ready.get(key)
        if ready:
            return ready.pop(0)
        known = self.answers.get(key)
        return copy.deepcopy(known[-1]) if known else {}


def main(code_dir: str, module_name: str, handler_name: str, job_file: str, result_file: str, *layers: str) -> None:
    with open(job_file, encoding="utf-8") as handle:
        job = json.load(handle)
    sys.path[:] = [code_dir, *layers, *sys.path[1:]]
    handler = getattr(__import__(module_name), handler_name)

    import boto3
    from botocore import xform_name
    from botocore.client import BaseClient

    real = BaseClient._make_api_call
    recording: list | None = None

    def record(client, operation, params):
        answer = real(client, operation, params)
        if recording is not None and client.meta.service_model.service_name == "dynamodb":
            recording.append((operation, copy.deepcopy(params), copy.deepcopy(answer)))
        return answer

    BaseClient._make_api_call = record
    recordings = []
    responses = []
    for event in job["record"]:
        recording = []
        responses.append(handler(event, Context()))
        recordings.append(recording)
    recording = None
    cold, warm = recordings
    if responses[-1]["statusCode"] != job["status"]:
        raise SystemExit(f"recorded request answered {responses[-1]['statusCode']}: {responses[-1].get('body')}")

    stub = Stub(warm, cold)
    BaseClient._make_api_call = lambda client, operation, params: stub(client, operation, params)
    plain_client = boto3.client("dynamodb")
    bare_calls = [(getattr(plain_client, xform_name(operation)), params) for operation, params, _ in warm]
    answer_body = json.loads(responses[-1]["body"]) if responses[-1].get("body") else None
    status = responses[-1]["statusCode"]

    def bare(event, _context):
        body = json.loads(event["body"]) if event.get("body") else None  # noqa: F841 - parsed, as any handler does
        for call, params in bare_calls:
            call(**params)
        return {
            "statusCode": status,
            "headers": {"Content-Type": "application/json"},
            "body": json.dumps(answer_body) if answer_body is not None else "",
        }

    def next_event() -> dict:
        event = copy.deepcopy(job["measure"])
        event["requestContext"]["requestId"] = str(uuid.uuid4())
        if job.get("keyed"):
            key = str(uuid.uuid4())
            event["headers"]["Idempotency-Key"] = key
            event["multiValueHeaders"]["Idempotency-Key"] = [key]
        return event

    context = Context()
    ours, theirs, wrong, stub_calls = [], [], 0, []

    def timed(function, event) -> tuple[tuple[float, float], dict]:
        """(CPU ms of this thread, wall ms). The CPU time is what our code costs; the wall time also
        holds whatever else ran on the machine meanwhile (it is shared)."""
        stub.prepare()
        cpu, wall = time.thread_time_ns(), time.perf_counter_ns()
        response = function(event, context)
        return ((time.thread_time_ns() - cpu) / 1e6, (time.perf_counter_ns() - wall) / 1e6), response

    iterations = int(job["iterations"])
    for i in range(iterations + 20):  # the first 20 of each are a warm-up, not counted
        event = next_event()
        pair = [(handler, ours), (bare, theirs)]
        for function, samples in pair if i % 2 else pair[::-1]:
            ms, response = timed(function, event)
            if function is handler:
                wrong += response["statusCode"] != job["status"]
                stub_calls.append(stub.calls)
            if i >= 20:
                samples.append(ms)
    BaseClient._make_api_call = real
    if os.environ.get("BENCH_PROFILE"):  # where our time goes: cProfile of 200 more requests, to stderr
        import cProfile
        import pstats

        BaseClient._make_api_call = lambda client, operation, params: stub(client, operation, params)
        profile = cProfile.Profile()
        for _ in range(200):
            event = next_event()
            stub.prepare()
            profile.enable()
            handler(event, context)
            profile.disable()
        BaseClient._make_api_call = real
        pstats.Stats(profile, stream=sys.stderr).sort_stats("cumulative").print_stats(int(os.environ["BENCH_PROFILE"]))
    result = {
        "ours_ms": statistics.median(c for c, _ in ours),
        "bare_ms": statistics.median(c for c, _ in theirs),
        "ours_wall_ms": statistics.median(w for _, w in ours),
        "bare_wall_ms": statistics.median(w for _, w in theirs),
        "ours_p90_ms": statistics.quantiles([c for c, _ in ours], n=10)[-1],
        "iterations": iterations,
        "calls": len(warm),
        "stub_calls": statistics.median(stub_calls),
        "wrong_status": wrong,
        "operations": [operation for operation, _, _ in warm],
    }
    result["overhead_ms"] = result["ours_ms"] - result["bare_ms"]
    result["overhead_wall_ms"] = result["ours_wall_ms"] - result["bare_wall_ms"]
    with open(result_file, "w", encoding="utf-8") as handle:
        json.dump(result, handle)


if __name__ == "__main__":
    main(*sys.argv[1:])
