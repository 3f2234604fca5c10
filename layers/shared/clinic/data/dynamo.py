"""One DynamoDB resource per execution environment, with the service's client configuration.

The endpoint comes from boto3's own configuration: in AWS the regional endpoint; locally
``AWS_ENDPOINT_URL_DYNAMODB`` points at the embedded store (the local stack sets it).
"""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache
from typing import Any

import boto3
from botocore.config import Config

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
# - The budget is per call: a request that fails stops at its first failed call. A request whose
#   several calls each *succeed* slowly could still run long; a per-request deadline from
#   context.get_remaining_time_in_millis() would be the next step.
# tests/unit/test_time_budget.py checks this inequality against template.yaml.
CLIENT_CONFIG = Config(
    retries={"total_max_attempts": 2, "mode": "standard"},
    connect_timeout=1,
    read_timeout=2,
    tcp_keepalive=True,
)


@lru_cache(maxsize=1)
def resource():
    from clinic.data import faults

    dynamodb = boto3.resource("dynamodb", config=CLIENT_CONFIG)
    faults.install(dynamodb.meta.client)  # only when CLINIC_FAULTS is set (never in AWS)
    return dynamodb


def table(name: str):
    return resource().Table(name)


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
