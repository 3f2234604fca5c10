"""Handler tests: each function's module, loaded on its own from functions/<name>/app.py with its
template environment, invoked on API Gateway events from events/ against moto's in-process DynamoDB
with the tables built from template.yaml."""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import uuid
from pathlib import Path
from typing import Any, Callable

import boto3
import pytest
from moto import mock_aws

from local_stack import template as tpl
from local_stack.tables import ensure_tables

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "events"

_TEST_ENV = {
    "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1", "POWERTOOLS_TRACE_DISABLED": "true", "POWERTOOLS_DEV": "false",
    "PAGINATION_SECRET": "test-pagination-secret", "POWERTOOLS_METRICS_NAMESPACE": "ClinicAppointments",
    "POWERTOOLS_SERVICE_NAME": "clinic-appointments",
}


class LambdaContext:
    function_name = "test"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:test"
    aws_request_id = "test-request"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 10_000


def _reset_layer_caches() -> None:
    from clinic.config import settings
    from clinic.data import dynamo

    settings.cache_clear()
    dynamo.resource.cache_clear()


@pytest.fixture
def aws(monkeypatch):
    """moto's DynamoDB with the template's tables, and every function's table variables set."""
    for key, value in _TEST_ENV.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL_DYNAMODB", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    for function in tpl.functions():
        for key, value in function.environment.items():
            if key.endswith("_TABLE"):
                monkeypatch.setenv(key, value)
    with mock_aws():
        ensure_tables(boto3.client("dynamodb", region_name="us-east-1"))
        _reset_layer_caches()
        yield boto3.client("dynamodb", region_name="us-east-1")
    _reset_layer_caches()


_loaded: dict[str, Any] = {}


def load_function(logical_id: str):
    """Import functions/<dir>/app.py under its own module name (every function's file is app.py)."""
    if logical_id not in _loaded:
        function = tpl.function(logical_id)
        path = function.code_dir / f"{function.module}.py"
        spec = importlib.util.spec_from_file_location(f"function_{logical_id}", path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
        _loaded[logical_id] = module
    return _loaded[logical_id]


def load_event(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / f"{name}.json").read_text())


def staff_claims() -> dict[str, str]:
    return {"sub": str(uuid.uuid4()), "cognito:groups": "staff"}


def event_for(method: str, resource: str, path_params: dict[str, str] | None = None, body: Any = None,
              query: dict[str, str] | None = None, claims: dict[str, str] | None = None,
              raw_body: str | None = None) -> dict[str, Any]:
    """A REST (v1) proxy event like API Gateway sends, for cases that have no file in events/."""
    path = resource
    for key, value in (path_params or {}).items():
        path = path.replace("{" + key + "}", value)
    return {
        "resource": resource, "path": path, "httpMethod": method,
        "headers": {"Content-Type": "application/json"},
        "multiValueHeaders": {"Content-Type": ["application/json"]},
        "queryStringParameters": query or None,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} if query else None,
        "pathParameters": path_params or None, "stageVariables": None,
        "requestContext": {"resourcePath": resource, "httpMethod": method, "path": f"/dev{path}", "stage": "dev",
                           "requestId": str(uuid.uuid4()), "authorizer": {"claims": claims or staff_claims()},
                           "identity": {"sourceIp": "127.0.0.1"}},
        "body": raw_body if raw_body is not None else (json.dumps(body) if body is not None else None),
        "isBase64Encoded": False,
    }


@pytest.fixture
def invoke(aws, monkeypatch) -> Callable[..., dict[str, Any]]:
    """Invoke a function by logical id on an event; answers the proxy response with a parsed body.
    The function sees exactly the table variables its template entry gives it, as in Lambda."""
    from clinic.config import settings
    from clinic.services import clinic_settings, doctors

    every_table_variable = {k for f in tpl.functions() for k in f.environment if k.endswith("_TABLE")}
    containers: dict[str, tuple] = {}  # function → its warm container's caches (one process runs them all)

    def _invoke(logical_id: str, event: dict[str, Any]) -> dict[str, Any]:
        own = {k: v for k, v in tpl.function(logical_id).environment.items() if k.endswith("_TABLE")}
        for key in every_table_variable - set(own):
            monkeypatch.delenv(key, raising=False)
        for key, value in own.items():
            monkeypatch.setenv(key, value)
        settings.cache_clear()
        doctors_known, settings_cached = containers.get(logical_id, ({}, None))
        doctors.restore_container_state(doctors_known)
        clinic_settings.restore_container_state(settings_cached)
        module = load_function(logical_id)
        try:
            response = module.lambda_handler(event, LambdaContext())
        finally:
            containers[logical_id] = (doctors.container_state(), clinic_settings.container_state())
        body = response.get("body")
        response["json"] = json.loads(body) if body else None
        # API Gateway merges headers and multiValueHeaders into one answer; so do we, for assertions.
        merged = dict(response.get("headers") or {})
        merged.update({k: v[-1] for k, v in (response.get("multiValueHeaders") or {}).items()})
        response["headers"] = merged
        return response

    return _invoke
