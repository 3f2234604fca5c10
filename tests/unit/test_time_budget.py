"""Time limits on purpose: one DynamoDB call, retries and backoff included, gives up well inside the
function's Timeout, and the Timeout is well under API Gateway's 29 s integration timeout. Then a slow
table ends as the function's own 503, never a Lambda timeout (502) or a gateway timeout (504)."""

from __future__ import annotations

from botocore.retries.standard import ExponentialBackoff

from clinic.data.dynamo import CLIENT_CONFIG
from local_stack import template as tpl

API_GATEWAY_INTEGRATION_TIMEOUT = 29
MARGIN = 2  # seconds left for the handler's own work and the 503 answer


def _attempts() -> int:
    retries = CLIENT_CONFIG.retries or {}
    if "total_max_attempts" in retries:
        return retries["total_max_attempts"]
    return retries["max_attempts"] + 1  # botocore's max_attempts counts retries only


def _worst_backoff(attempts: int) -> float:
    """Standard mode: before retry i (0-based), rand(0, 1) × min(scale × 2**i, 20 s); the throttling
    scale (1 s) is the largest."""
    scale = max(ExponentialBackoff._DEFAULT_BACKOFF_CONFIG.values())
    return sum(min(scale * ExponentialBackoff._BASE ** i, ExponentialBackoff._MAX_BACKOFF)
               for i in range(attempts - 1))


def worst_dynamodb_call_seconds() -> float:
    attempts = _attempts()
    return attempts * (CLIENT_CONFIG.connect_timeout + CLIENT_CONFIG.read_timeout) + _worst_backoff(attempts)


def test_given_the_client_config_when_every_attempt_times_out_then_the_call_ends_inside_the_function_timeout():
    timeout = tpl.load()["Globals"]["Function"]["Timeout"]
    assert CLIENT_CONFIG.retries["mode"] == "standard"
    assert worst_dynamodb_call_seconds() + MARGIN <= timeout < API_GATEWAY_INTEGRATION_TIMEOUT - MARGIN


def test_given_no_function_overrides_the_timeout_then_the_global_budget_holds_for_every_function():
    for function in tpl.functions():
        assert function.timeout == tpl.load()["Globals"]["Function"]["Timeout"], function.logical_id


def test_the_worst_case_is_what_the_comments_say():
    assert _attempts() == 2
    assert worst_dynamodb_call_seconds() == 7
