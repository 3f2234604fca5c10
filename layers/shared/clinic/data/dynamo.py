"""One DynamoDB resource per execution environment, with the service's client configuration, its
time budget per call and a deadline per request.

The endpoint comes from boto3's own configuration: in AWS the regional endpoint; locally
``AWS_ENDPOINT_URL_DYNAMODB`` points at the embedded store (the local stack sets it).
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from decimal import Decimal
from functools import lru_cache
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError

# The time budget of one DynamoDB call, which must end well inside the function's Timeout (10 s in
# template.yaml Globals), itself well under API Gateway's 29 s integration timeout. Then a slow or
# failing table surfaces as the function's own 503 SERVICE_UNAVAILABLE + Retry-After (api.py maps
# ReadTimeoutError / ConnectTimeoutError / throttling to it), not as a Lambda timeout (502) or a
# gateway timeout (504). Worst case of one call, in botocore's "standard" mode:
#   attempts × (connect + read)  +  backoff before each retry (≤ 1 s × 2**i for throttling)
#   = 2 × (1 s + 2 s) + 1 s = 7 s  <  10 s Timeout  <  29 s.
# - total_max_attempts counts the first attempt. (The old {"max_attempts": 3} meant 3 *retries*,
#   4 attempts: 4 × (2 + 3) + (1 + 2 + 4) = 27 s, far over the 10 s Timeout.) One retry absorbs a
#   throttling blip or a lost connection; beyond that the client's own retry after Retry-After does.
# - DynamoDB answers keyed reads and writes in milliseconds in-region; 1 s to connect and 2 s for a
#   read are generous and still fail fast. read_timeout bounds each socket read, not the whole
#   response, which for DynamoDB's small answers is the same thing.
# - The budget is per call, so a request also has a deadline (below): a call is only started if
#   its worst case still ends inside the invocation.
# tests/unit/test_time_budget.py checks these figures against template.yaml.
CLIENT_CONFIG = Config(
    retries={"total_max_attempts": 2, "mode": "standard"},
    connect_timeout=1,
    read_timeout=2,
    tcp_keepalive=True,
)


# botocore's standard mode waits at most min(1 s × 2**i, 20 s) before retry i (1 s is its throttling
# scale). Written out here rather than read from botocore's private attributes at import time;
# tests/unit/test_time_budget.py checks the two agree.
BACKOFF_SCALE_SECONDS, BACKOFF_CAP_SECONDS = 1.0, 20.0


def worst_call_seconds(config: Config = CLIENT_CONFIG) -> float:
    """The longest one call can take: every attempt times out, with the longest backoff before each retry."""
    attempts = config.retries["total_max_attempts"]
    backoff = sum(min(BACKOFF_SCALE_SECONDS * 2**i, BACKOFF_CAP_SECONDS) for i in range(attempts - 1))
    return attempts * (config.connect_timeout + config.read_timeout) + backoff


# ---------------------------------------------------------------------------- per-request deadline
# Each call is bounded, but a request makes several (keyed booking: five). Several slow-but-successful
# calls could together outlast the function's Timeout, and a Lambda timeout answers 502 with no log
# line, metric or audit record. So a call is started only while its worst case still ends ANSWER_SECONDS
# before the invocation does; otherwise the request stops with DeadlineExceeded, which api.py answers
# as 503 SERVICE_UNAVAILABLE + Retry-After like any storage fault. With the 10 s Timeout that leaves the
# first 2 s of an invocation to start calls — a healthy request makes all of its calls in tens of
# milliseconds, so only a request on a degraded table ever meets the deadline.
WORST_CALL_SECONDS = worst_call_seconds()
ANSWER_SECONDS = 1.0  # left for the handler to answer (and audit) after the last call
_deadline: ContextVar[float | None] = ContextVar("dynamodb_deadline", default=None)


class DeadlineExceeded(BotoCoreError):
    fmt = "not enough time left in this invocation for another DynamoDB call"


@contextmanager
def deadline_of(context) -> Iterator[None]:
    """Around one invocation, with its Lambda context (no deadline without one)."""
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    token = _deadline.set(time.monotonic() + remaining() / 1000 if remaining else None)
    try:
        yield
    finally:
        _deadline.reset(token)


def _enforce_deadline(**_) -> None:
    deadline = _deadline.get()
    if deadline is not None and time.monotonic() + WORST_CALL_SECONDS + ANSWER_SECONDS > deadline:
        raise DeadlineExceeded()


def guard_deadline(aws_client, service: str) -> None:
    """Start a call of this client only within the request's deadline (as DynamoDB's)."""
    aws_client.meta.events.register(f"before-call.{service}", _enforce_deadline)


def _guard(dynamodb_client) -> None:
    from clinic.data import faults

    guard_deadline(dynamodb_client, "dynamodb")
    faults.install(dynamodb_client)  # only when CLINIC_FAULTS is set (never in AWS)


def new_client():
    """A client with the service's configuration and deadline, for Powertools' idempotency store."""
    dynamodb_client = boto3.client("dynamodb", config=CLIENT_CONFIG)
    _guard(dynamodb_client)
    return dynamodb_client


@lru_cache(maxsize=1)
def resource():
    dynamodb = boto3.resource("dynamodb", config=CLIENT_CONFIG)
    _guard(dynamodb.meta.client)
    return dynamodb


_tables: dict[str, Any] = {}
_tables_of: Any = None  # the resource the cached Table objects belong to


def table(name: str):
    """The table's resource object, made once per container: boto3 builds a new resource class on
    every ``Table()`` call (~0.5 ms, most of a warm read's own time). A new resource (tests, a
    SnapStart restore) starts a new cache."""
    global _tables_of
    dynamodb = resource()
    if _tables_of is not dynamodb:
        _tables.clear()
        _tables_of = dynamodb
    found = _tables.get(name)
    if found is None:
        found = _tables[name] = dynamodb.Table(name)
    return found


def batch_get(table_name: str, ids: list[str]) -> list[dict[str, Any]]:
    """Items by id (consistent reads, 100 keys per call), those that exist, in no particular order."""
    return batch_get_keys(table_name, [{"id": i} for i in ids])


def batch_get_keys(table_name: str, keys: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Items by key (consistent reads, 100 keys per call), those that exist, in no particular order."""
    found: list[dict[str, Any]] = []
    for start in range(0, len(keys), 100):
        found += batch_get_tables({table_name: keys[start : start + 100]}).get(table_name, [])
    return found


def batch_get_tables(keys: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    """Items of several tables by key in one BatchGetItem (consistent reads; at most 100 keys in all):
    table → the items that exist. Keys DynamoDB leaves unprocessed (it is throttling) are asked again
    after a growing pause; the request's deadline bounds the rounds (a call it has no time for ends
    the request as a 503)."""
    found: dict[str, list[dict[str, Any]]] = {name: [] for name in keys}
    request = {name: {"Keys": table_keys, "ConsistentRead": True} for name, table_keys in keys.items() if table_keys}
    for pause in _unprocessed_pauses():
        if not request:
            break
        answer = resource().batch_get_item(RequestItems=request)
        for name, items in answer.get("Responses", {}).items():
            found[name] += plain(items)
        request = answer.get("UnprocessedKeys") or {}
        if request:
            time.sleep(pause)
    return found


def _unprocessed_pauses() -> Iterator[float]:
    pause = 0.05
    while True:
        yield random.uniform(0, pause)  # noqa: S311 - jitter, not a secret: throttled containers spread out
        pause = min(pause * 2, 1.0)


def client():
    """The resource's client: accepts and returns plain Python values (used for transactions)."""
    return resource().meta.client


def plain(value: Any) -> Any:
    """DynamoDB numbers come back as Decimal; give the rest of the code ints."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, set):
        return {plain(v) for v in value}
    return value


def page_args(limit: int, start_key: dict | None) -> dict[str, Any]:
    args: dict[str, Any] = {"Limit": limit}
    if start_key:
        args["ExclusiveStartKey"] = start_key
    return args
