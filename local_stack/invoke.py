"""`make invoke FUNCTION=<LogicalId> EVENT=events/<file>.json`: one function on one event, like
`sam local invoke`, without Docker. Runs against the DynamoDB that this clone's `make run` started
(found in .local/stack.json: its port is a free one, not a fixed 8000), or DYNAMODB_ENDPOINT; prints
the function's logs to stderr and its response to stdout. Any event shape works (an API Gateway
event, a DynamoDB stream event for a consumer, ...); a function that puts events or creates
schedules reaches the EventBridge and Scheduler of that `make run`. The events/ files name the demo
data's first doctor and patient (local_stack/seed.py), so they find them on a freshly seeded stack."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from local_stack import state
from local_stack import template as tpl
from local_stack.dynamodb import wait_until_up
from local_stack.functions import FunctionFailed, Worker, service_endpoints


def invoke(logical_id: str, event_file: str) -> int:
    running = state.read()
    endpoint = os.environ.get("DYNAMODB_ENDPOINT") or (running and running["dynamodb"])
    if not endpoint:
        print("no local stack is running here: start `make run` in another terminal first", file=sys.stderr)
        return 2
    try:
        wait_until_up(endpoint, timeout=3)
    except RuntimeError:
        print(f"no DynamoDB answers at {endpoint}: is `make run` still up?", file=sys.stderr)
        return 2
    try:
        function = tpl.function(logical_id)
    except KeyError:
        names = ", ".join(f.logical_id for f in tpl.functions())
        print(f"no function {logical_id} in {tpl.TEMPLATE.name}; one of: {names}", file=sys.stderr)
        return 2
    event = json.loads(Path(event_file).read_text(encoding="utf-8"))
    request_id = (
        event.get("requestContext", {}).get("requestId", "local-invoke") if isinstance(event, dict) else "local-invoke"
    )
    services = service_endpoints(running["url"] if running else f"http://127.0.0.1:{os.environ.get('PORT', '3000')}")
    worker = Worker(function, endpoint, lambda _source, line: print(line, file=sys.stderr), services)
    try:
        result = worker.invoke(event, request_id)
    except FunctionFailed as error:
        print(str(error), file=sys.stderr)
        return 1
    finally:
        worker.stop()
    print(json.dumps(result, indent=2))
    return 0
