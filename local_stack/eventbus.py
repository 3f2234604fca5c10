"""EventBridge, locally: the template's event buses, PutEvents, and its rules' Lambda targets.

The gateway serves the endpoint under ``/_aws/events`` (botocore's JSON protocol: ``POST`` with
``X-Amz-Target: AWSEvents.PutEvents``); workers reach it through ``AWS_ENDPOINT_URL_EVENTBRIDGE``.
Each accepted entry gets EventBridge's envelope (version, id, detail-type, source, account, time,
region, resources, detail), is recorded (the newest ``LIMIT``, served as ``GET /_local/events``)
and is handed, asynchronously, to every function whose rule on that bus matches
(local_stack/patterns.py); PutEvents answers without waiting for them. Function errors are retried
and dead-lettered by local_stack/async_invoke.py, as Lambda's asynchronous invocation does.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

from local_stack import ACCOUNT, REGION, patterns
from local_stack import template as tpl

LIMIT = 10_000
MAX_ENTRIES = 10  # PutEvents takes 1 to 10 entries
JSON_TYPE = "application/x-amz-json-1.1"
LogSink = Callable[[str, str], None]
Answer = tuple[int, dict[str, str], bytes]


def _error(status: int, code: str, message: str) -> Answer:
    return status, {"Content-Type": JSON_TYPE}, json.dumps({"__type": code, "message": message}).encode()


def _select(event: dict[str, Any], path: str | None) -> Any:
    """A target's InputPath ($, $.detail, $.detail.id ...) applied to the envelope."""
    if not path or path == "$":
        return event
    value: Any = event
    for key in path.removeprefix("$.").split("."):
        value = value.get(key) if isinstance(value, dict) else None
    return value


class EventBus:
    def __init__(
        self, invoker: Any, console: LogSink, rules: list[tpl.Rule] | None = None, buses: list[str] | None = None
    ) -> None:
        self.invoker, self.console = invoker, console
        self.rules = [r for r in (tpl.rules() if rules is None else rules) if r.enabled]
        self.buses = set(tpl.buses() if buses is None else buses)
        self.events: deque[dict[str, Any]] = deque(maxlen=LIMIT)
        self.lock = threading.Lock()

    # ------------------------------------------------------------------ PutEvents
    def put_events(self, entries: list[dict[str, Any]]) -> dict[str, Any]:
        results, failed = [], 0
        for entry in entries:
            envelope, bus, error = self._envelope(entry)
            if error:
                failed += 1
                results.append({"ErrorCode": error[0], "ErrorMessage": error[1]})
                continue
            with self.lock:
                self.events.append(envelope)
            self._route(bus, envelope)
            results.append({"EventId": envelope["id"]})
        return {"FailedEntryCount": failed, "Entries": results}

    def _envelope(self, entry: dict[str, Any]):
        bus = tpl.bus_name(entry.get("EventBusName"))
        if bus not in self.buses:
            return None, bus, ("ResourceNotFoundException", f"Event bus {bus} does not exist.")
        missing = [k for k in ("Source", "DetailType", "Detail") if not entry.get(k)]
        if missing:
            return None, bus, ("InvalidArgument", f"Parameter(s) {', '.join(missing)} must be specified.")
        try:
            detail = json.loads(entry["Detail"])
        except (TypeError, ValueError):
            detail = None
        if not isinstance(detail, dict):
            return None, bus, ("MalformedDetail", "Detail is malformed.")
        at = entry.get("Time")
        at = float(at) if isinstance(at, (int, float)) else time.time()
        return (
            {
                "version": "0",
                "id": str(uuid.uuid4()),
                "detail-type": str(entry["DetailType"]),
                "source": str(entry["Source"]),
                "account": ACCOUNT,
                "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(at)),
                "region": REGION,
                "resources": [str(r) for r in entry.get("Resources") or []],
                "detail": detail,
            },
            bus,
            None,
        )

    def _route(self, bus: str, envelope: dict[str, Any]) -> None:
        targets = []
        for rule in self.rules:
            if rule.bus != bus or not patterns.matches(rule.pattern, envelope):
                continue
            if rule.input is not None:
                try:
                    event = json.loads(rule.input)
                except ValueError:
                    event = rule.input
            else:
                event = _select(envelope, rule.input_path)
            self.invoker.submit(rule.function, event, "aws:events", rule=rule.name, event_id=envelope["id"])
            targets.append(rule.function)
        # Ids, types and counts only: never the detail.
        self.console(
            "EventBridge",
            json.dumps(
                {
                    "level": "INFO",
                    "message": f"{envelope['detail-type']} from {envelope['source']} on {bus} → "
                    f"{', '.join(targets) or 'no rule matched'}",
                    "event_id": envelope["id"],
                }
            ),
        )

    # ------------------------------------------------------------------ HTTP (botocore's JSON protocol)
    def handle_http(self, method: str, path: str, query: str, headers: Any, body: bytes) -> Answer:
        target = headers.get("X-Amz-Target") or ""
        if method != "POST" or not target.startswith("AWSEvents."):
            return _error(400, "UnknownOperationException", "Only POST with X-Amz-Target: AWSEvents.<Action>")
        action = target.split(".", 1)[1]
        if action != "PutEvents":
            return _error(400, "UnknownOperationException", f"{action} is not supported by the local EventBridge")
        try:
            request = json.loads(body or b"{}")
        except ValueError:
            return _error(400, "SerializationException", "The request body is not JSON.")
        entries = request.get("Entries") if isinstance(request, dict) else None
        if not isinstance(entries, list) or not 1 <= len(entries) <= MAX_ENTRIES:
            return _error(400, "ValidationException", f"Entries must hold 1 to {MAX_ENTRIES} entries.")
        if not all(isinstance(e, dict) for e in entries):
            return _error(400, "ValidationException", "Each entry must be an object.")
        return 200, {"Content-Type": JSON_TYPE}, json.dumps(self.put_events(entries)).encode()

    # ------------------------------------------------------------------ /_local/events
    def list(self, detail_type: str | None = None, source: str | None = None) -> list[dict[str, Any]]:
        with self.lock:
            events = list(self.events)
        return [
            e
            for e in events
            if (detail_type is None or e["detail-type"] == detail_type) and (source is None or e["source"] == source)
        ]

    def json(self, query: str = "") -> bytes:
        params = parse_qs(query)
        detail_type = params.get("detail_type", [None])[-1]
        source = params.get("source", [None])[-1]
        return json.dumps({"items": self.list(detail_type, source)}, indent=2).encode()
