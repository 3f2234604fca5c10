"""One moto world per test module, for the security and hostile-input tests: building the tables and a
few records takes longer than most of the requests the tests then make.

``module_world`` is tests/handlers/conftest.py's ``aws`` and ``invoke`` with a module-scoped MonkeyPatch
(the function-scoped ``monkeypatch`` cannot outlive one test). A module overrides both fixtures with
it; each function keeps its warm container for the whole module, as in Lambda. Tests in such a module
must not assume empty tables: they look at what *their* requests did (by request id, or by records
they created).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from tests.handlers.conftest import fake_aws, make_invoker


@contextmanager
def module_world() -> Iterator[tuple[Any, Callable[..., dict[str, Any]]]]:
    """conftest's ``aws`` and ``invoke``, for one module: the moto client and an invoker."""
    with pytest.MonkeyPatch.context() as patch, fake_aws(patch) as client:
        yield client, make_invoker(patch)


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
