"""Dead letters, locally: whatever exhausted its retries (a stream batch, an event a rule delivered,
a schedule's invocation) is kept here, in memory, and served as ``GET /_local/dead-letters``.

On AWS it would go to the configured failure destination (an SQS queue, usually) or be dropped
when none is configured; locally every one is kept, with ``destination`` saying where AWS would
have sent it (null: nowhere, it would be lost). Bounded: the newest ``LIMIT`` are kept.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import deque
from typing import Any

LIMIT = 1000


class DeadLetters:
    def __init__(self, limit: int = LIMIT) -> None:
        self.items: deque[dict[str, Any]] = deque(maxlen=limit)
        self.lock = threading.Lock()

    def add(
        self,
        *,
        source: str,
        function: str,
        error_type: str,
        attempts: int,
        destination: str | None,
        payload: Any,
        reason: str = "RetriesExhausted",
        **details: Any,
    ) -> dict[str, Any]:
        """``source`` is the event source (``aws:dynamodb``, ``aws:events``, ``aws:scheduler``);
        ``payload`` what the function was given (the stream batch's event, the event, the input)."""
        item = {
            "id": str(uuid.uuid4()),
            "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "source": source,
            "function": function,
            "error_type": error_type,
            "reason": reason,
            "attempts": attempts,
            "destination": destination,
            **details,
            "payload": payload,
        }
        with self.lock:
            self.items.append(item)
        return item

    def list(self) -> list[dict[str, Any]]:
        with self.lock:
            return list(self.items)

    def json(self) -> bytes:
        return json.dumps({"items": self.list()}, indent=2, default=str).encode()
