"""Handler tests: each function's module, loaded on its own from functions/<name>/app.py with its
template environment, invoked on API Gateway events from events/ against moto's in-process DynamoDB
with the tables built from template.yaml."""

from __future__ import annotations

import importlib.util
import json
import sys
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3
import botocore.loaders
import pytest
from moto import mock_aws

from local_stack import template as tpl
from local_stack.tables import ensure_tables
from tests.claims import claims_of

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "events"

_TEST_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_DEV": "false",
    "PAGINATION_SECRET": "test-pagination-secret",
    "POWERTOOLS_METRICS_NAMESPACE": "ClinicAppointments",
    "POWERTOOLS_SERVICE_NAME": "clinic-appointments",
    # each user pool's issuer, as the template's Globals give it to every function (clinic.identity)
    **{name: value for name, value in tpl.global_environment().items() if name.endswith("_ISSUER")},
}


# Lambda's longest Timeout. A handler test's invocation always has this left (see LambdaContext).
HARNESS_REMAINING_MS = 15 * 60 * 1000


class LambdaContext:
    """The context the handler tests invoke with. Its time left never runs short: the layer starts a
    DynamoDB call only if its worst case (7 s) still ends a second before the invocation does, so with
    the template's 10 s a request has its first 2 s to start calls; moto, in this process, on a loaded
    machine (load 8-18 on 2 cores), can take that long for one healthy request, and the deadline would
    answer it 503 DeadlineExceeded as if the table were degraded. The machine's speed is no part of what
    a handler test checks. The deadline is tested where it is the subject, with contexts of their own:
    tests/unit/test_time_budget.py (the figures, against template.yaml), tests/handlers/test_faults.py
    (a request without time for another call ends as a clean 503 that changes nothing)."""

    function_name = "test"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:test"
    aws_request_id = "test-request"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return HARNESS_REMAINING_MS


# moto's mock resets boto3's default session, so every test's clients load botocore's data files
# (endpoints, the service models, waiters) again: JSON parsing was half of a fake world's set-up
# (~100 of ~200 ms per test). The files do not change during a run, so they are parsed once per process.
_parsed_data_files: dict[str, Any] = {}
_load_data_file = botocore.loaders.JSONFileLoader.load_file


def _load_data_file_once(self, file_path: str) -> Any:
    if file_path not in _parsed_data_files:
        _parsed_data_files[file_path] = _load_data_file(self, file_path)
    return _parsed_data_files[file_path]


_available_services: dict[str, list[str]] = {}
_list_available_services = botocore.loaders.Loader.list_available_services


def _list_available_services_once(self, type_name: str) -> list[str]:  # a walk of botocore's data folders
    if type_name not in _available_services:
        _available_services[type_name] = _list_available_services(self, type_name)
    return list(_available_services[type_name])


botocore.loaders.JSONFileLoader.load_file = _load_data_file_once
botocore.loaders.Loader.list_available_services = _list_available_services_once


def _reset_layer_caches() -> None:
    from clinic.config import settings
    from clinic.data import dynamo

    settings.cache_clear()
    dynamo.resource.cache_clear()


@contextmanager
def fake_aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """moto's AWS with the template's tables, event bus and schedule group, and every function's
    table variables set (``invoke`` narrows them to the invoked function's own)."""
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
        for bus in tpl.buses():  # the stack's event bus and schedule group, as the local stack makes them
            if bus != "default":
                boto3.client("events", region_name="us-east-1").create_event_bus(Name=bus)
        for group in tpl.schedule_groups():
            if group != "default":
                boto3.client("scheduler", region_name="us-east-1").create_schedule_group(Name=group)
        _reset_layer_caches()
        yield boto3.client("dynamodb", region_name="us-east-1")
    _reset_layer_caches()


@pytest.fixture
def aws(monkeypatch):
    with fake_aws(monkeypatch) as client:
        yield client


@pytest.fixture(scope="module")
def module_aws():
    """One moto world for a whole module (for tests that only read it, or make their own records)."""
    with pytest.MonkeyPatch.context() as monkeypatch, fake_aws(monkeypatch) as client:
        yield client, monkeypatch


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
    return claims_of("staff", sub=str(uuid.uuid4()))


def event_for(
    method: str,
    resource: str,
    path_params: dict[str, str] | None = None,
    body: Any = None,
    query: dict[str, str] | None = None,
    claims: dict[str, str] | None = None,
    raw_body: str | None = None,
) -> dict[str, Any]:
    """A REST (v1) proxy event like API Gateway sends, for cases that have no file in events/."""
    path = resource
    for key, value in (path_params or {}).items():
        path = path.replace("{" + key + "}", value)
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": {"Content-Type": "application/json"},
        "multiValueHeaders": {"Content-Type": ["application/json"]},
        "queryStringParameters": query or None,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} if query else None,
        "pathParameters": path_params or None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": resource,
            "httpMethod": method,
            "path": f"/dev{path}",
            "stage": "dev",
            "requestId": str(uuid.uuid4()),
            "authorizer": {"claims": claims or staff_claims()},
            "identity": {"sourceIp": "127.0.0.1"},
        },
        "body": raw_body if raw_body is not None else (json.dumps(body) if body is not None else None),
        "isBase64Encoded": False,
    }


def make_invoker(monkeypatch: pytest.MonkeyPatch) -> Callable[..., dict[str, Any]]:
    """Invoke a function by logical id on an event; answers the proxy response with a parsed body.
    The function sees exactly the variables its template entry gives it, and keeps its own warm
    container's caches, as in Lambda."""
    from clinic.config import settings
    from clinic.services import allocation, clinic_settings, doctors

    shared = set(tpl.load()["Globals"]["Function"]["Environment"]["Variables"])
    every_variable = {k for f in tpl.functions() for k in f.environment if k not in shared}
    containers: dict[str, tuple] = {}  # function → its warm container's caches (one process runs them all)

    def run(logical_id: str, event: dict[str, Any]) -> Any:
        """Run a function's handler as its own container would: its environment, its warm caches."""
        own = {k: v for k, v in tpl.function(logical_id).environment.items() if k not in shared}
        for key in every_variable - set(own):
            monkeypatch.delenv(key, raising=False)
        for key, value in own.items():
            monkeypatch.setenv(key, value)
        settings.cache_clear()
        doctors_known, settings_cached, places_known = containers.get(logical_id, ({}, None, ({}, {})))
        doctors.restore_container_state(doctors_known)
        clinic_settings.restore_container_state(settings_cached)
        allocation.restore_container_state(places_known)
        try:
            return load_function(logical_id).lambda_handler(event, LambdaContext())
        finally:
            containers[logical_id] = (
                doctors.container_state(),
                clinic_settings.container_state(),
                allocation.container_state(),
            )

    def _invoke(logical_id: str, event: dict[str, Any]) -> dict[str, Any]:
        response = run(logical_id, event)
        body = response.get("body")
        response["json"] = json.loads(body) if body else None
        # API Gateway merges headers and multiValueHeaders into one answer; so do we, for assertions.
        merged = dict(response.get("headers") or {})
        merged.update({k: v[-1] for k, v in (response.get("multiValueHeaders") or {}).items()})
        response["headers"] = merged
        return response

    _invoke.worker = run  # a background function: whatever its handler answers
    return _invoke


@pytest.fixture
def invoke(aws, monkeypatch) -> Callable[..., dict[str, Any]]:
    return make_invoker(monkeypatch)


@pytest.fixture(scope="module")
def module_invoke(module_aws) -> Callable[..., dict[str, Any]]:
    """``invoke`` on the module's one moto world."""
    _, monkeypatch = module_aws
    return make_invoker(monkeypatch)


def empty_tables() -> None:
    """Empty every table of the moto world, in memory (the tables stay). For module-shared worlds whose
    tests each make their own records: moto copies every table in full for each TransactWriteItems, so
    a world grown over a module makes each later test slower than the one before."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    for table in dynamodb_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].tables.values():
        table.items.clear()
