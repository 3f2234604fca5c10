"""The stack's EventBridge bus: where domain events (clinic.events) are put."""

from __future__ import annotations

import json
import os
from functools import lru_cache
from typing import Any

from clinic.events import SOURCE

_BATCH = 10  # PutEvents takes at most 10 entries


class NotDelivered(Exception):
    """The bus refused some entries; the caller fails so that its trigger retries them."""


@lru_cache(maxsize=1)
def _client():
    import boto3

    from clinic.data.dynamo import CLIENT_CONFIG

    return boto3.client("events", config=CLIENT_CONFIG)


def put(events: list[dict[str, Any]]) -> None:
    """Put events (``{"detail-type", "detail"}``), in order; NotDelivered if any entry failed."""
    bus = os.environ["EVENT_BUS_NAME"]
    for start in range(0, len(events), _BATCH):
        entries = [
            {"Source": SOURCE, "DetailType": e["detail-type"], "Detail": json.dumps(e["detail"]), "EventBusName": bus}
            for e in events[start : start + _BATCH]
        ]
        answer = _client().put_events(Entries=entries)
        if answer.get("FailedEntryCount"):
            codes = sorted({e.get("ErrorCode", "?") for e in answer.get("Entries", []) if e.get("ErrorCode")})
            raise NotDelivered(", ".join(codes))
