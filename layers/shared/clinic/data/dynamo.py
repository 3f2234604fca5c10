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

# Bounded retries with backoff, and timeouts well under the functions' timeouts (see template.yaml):
# a slow or throttled table becomes a clean 503, not an API Gateway 504.
CLIENT_CONFIG = Config(
    retries={"max_attempts": 3, "mode": "standard"},
    connect_timeout=2,
    read_timeout=3,
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
