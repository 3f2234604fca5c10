"""One moto world per test module, for the security and hostile-input tests: building the tables and a
few records takes longer than most of the requests the tests then make.

``module_aws`` is what tests/handlers/conftest.py's ``aws`` fixture does, and ``Invoker`` what its
``invoke`` fixture does, with a module-scoped MonkeyPatch (the function-scoped ``monkeypatch`` cannot
outlive one test). A module overrides both fixtures with them; each function keeps its warm container
for the whole module, as in Lambda. Tests in such a module must not assume empty tables: they look at
what *their* requests did (by request id, or by records they created).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
import pytest
from moto import mock_aws

from local_stack import template as tpl
from local_stack.tables import ensure_tables
from tests.handlers.conftest import _TEST_ENV, LambdaContext, _reset_layer_caches, load_function


@contextmanager
def module_aws() -> Iterator[Any]:
    with pytest.MonkeyPatch.context() as patch:
        for key, value in _TEST_ENV.items():
            patch.setenv(key, value)
        patch.delenv("AWS_ENDPOINT_URL_DYNAMODB", raising=False)
        patch.delenv("AWS_ENDPOINT_URL", raising=False)
        for function in tpl.functions():
            for key, value in function.environment.items():
                if key.endswith("_TABLE"):
                    patch.setenv(key, value)
        with mock_aws():
            client = boto3.client("dynamodb", region_name="us-east-1")
            ensure_tables(client)
            _reset_layer_caches()
            yield client
        _reset_layer_caches()


class Invoker:
    """conftest's ``invoke``: a function by logical id on an event, with exactly its template's table
    variables set; answers the proxy response with ``json`` (the parsed body) and merged headers."""

    def __init__(self, patch: pytest.MonkeyPatch) -> None:
        self.patch = patch
        self.every_table_variable = {k for f in tpl.functions() for k in f.environment if k.endswith("_TABLE")}
        self.own = {
            f.logical_id: {k: v for k, v in f.environment.items() if k.endswith("_TABLE")} for f in tpl.functions()
        }
        self.containers: dict[str, tuple] = {}

    def __call__(self, logical_id: str, event: dict[str, Any]) -> dict[str, Any]:
        from clinic.config import settings
        from clinic.services import clinic_settings, doctors

        own = self.own[logical_id]
        for key in self.every_table_variable - set(own):
            self.patch.delenv(key, raising=False)
        for key, value in own.items():
            self.patch.setenv(key, value)
        settings.cache_clear()
        doctors_known, settings_cached = self.containers.get(logical_id, ({}, None))
        doctors.restore_container_state(doctors_known)
        clinic_settings.restore_container_state(settings_cached)
        module = load_function(logical_id)
        try:
            response = module.lambda_handler(event, LambdaContext())
        finally:
            self.containers[logical_id] = (doctors.container_state(), clinic_settings.container_state())
        body = response.get("body")
        response["json"] = json.loads(body) if body else None
        merged = dict(response.get("headers") or {})
        merged.update({k: v[-1] for k, v in (response.get("multiValueHeaders") or {}).items()})
        response["headers"] = merged
        return response


@contextmanager
def module_world() -> Iterator[tuple[Any, Invoker]]:
    """The moto client and an invoker, for one module."""
    with module_aws() as client, pytest.MonkeyPatch.context() as patch:
        yield client, Invoker(patch)


def _tables() -> dict[str, Any]:
    """moto's tables, read in memory: a boto3 Scan through moto costs ~10 ms a call, and the property
    test compares every business table before and after each of its hundreds of requests."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    return dynamodb_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].tables


def snapshot(_client=None) -> dict[str, list[str]]:
    """tests/handlers/helpers.py's ``snapshot`` (every item of every business table; the audit trail left
    out), read from moto's memory instead of through Scan. test_security.py checks they agree."""
    return {
        name: sorted(json.dumps(item.to_json(), sort_keys=True, default=str) for item in table.all_items())
        for name, table in sorted(_tables().items())
        if not name.endswith("AuditTable")
    }


def forget_audit_records() -> None:
    """Empty the audit table, in moto's memory. The property test's requests leave thousands of records,
    and moto copies every table in full for each TransactWriteItems (to roll back): a many-patient audit
    write then takes seconds, and the request meets its DynamoDB deadline (503) — moto's cost, not the
    service's. A test that looks at records calls this before its request, never in between."""
    (table,) = [t for name, t in _tables().items() if name.endswith("AuditTable")]
    table.items.clear()


def audit_records(_client=None, request_id: str | None = None) -> list[dict[str, Any]]:
    """The audit table's records (each attribute's plain value), optionally of one request only."""
    (table,) = [t for name, t in _tables().items() if name.endswith("AuditTable")]
    records = []
    for item in table.all_items():
        attributes = item.to_json()["Attributes"]
        record = {k: next(iter(v.values())) for k, v in attributes.items()}
        if request_id is None or record.get("request_id") == request_id:
            records.append(record)
    return records


def request_id(event: dict[str, Any]) -> str:
    return event["requestContext"]["requestId"]


def new_sub(label: str) -> str:
    return f"{label}-{uuid.uuid4().hex[:8]}"
