"""Small helpers for handler tests: events from events/ with overrides, table snapshots, and the
services' clock set by a test."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from typing import Any

from tests.handlers.conftest import load_event


def event(
    name: str,
    *,
    body: Any = None,
    path: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    claims: dict[str, str] | None = None,
) -> dict[str, Any]:
    """An event file from events/, with the body, path parameters or query replaced."""
    result = copy.deepcopy(load_event(name))
    if body is not None:
        result["body"] = body if isinstance(body, str) else json.dumps(body)
    if path is not None:
        result["pathParameters"] = path
        concrete = result["resource"]
        for key, value in path.items():
            concrete = concrete.replace("{" + key + "}", value)
        result["path"] = concrete
    if query is not None:
        result["queryStringParameters"] = query or None
        result["multiValueQueryStringParameters"] = {k: [v] for k, v in query.items()} or None
    if claims is not None:
        result["requestContext"]["authorizer"] = {"claims": claims}
    return result


def snapshot(client) -> dict[str, list]:
    """Every item of every business table, to show that a rejected request changed nothing. (The
    audit trail is left out: it is meant to record rejected requests too.)"""
    result = {}
    for name in sorted(client.list_tables()["TableNames"]):
        if name.endswith("AuditTable"):
            continue
        items = client.scan(TableName=name)["Items"]
        result[name] = sorted(json.dumps(i, sort_keys=True) for i in items)
    return result


def problem(response: dict[str, Any], status: int, code: str) -> dict[str, Any]:
    """Assert a problem+json answer with this status and code; answer its body."""
    assert response["statusCode"] == status, response
    headers = {**response.get("headers", {}), **{k: v[0] for k, v in response.get("multiValueHeaders", {}).items()}}
    assert headers.get("Content-Type") == "application/problem+json", headers
    body = response["json"]
    assert body["code"] == code and body["status"] == status and body["title"], body
    assert "Traceback" not in response["body"] and "clinic-local" not in response["body"]
    return body


class ServiceClock:
    """The services' idea of now (``now_utc`` in the modules named), set by the test: it runs with the
    real clock until ``set_to`` and then stands still at the moment set, so what a test checks one
    second before an expiry is checked one second before it however slow the machine is. (The write
    conditions compare the same clock: the services pass ``now`` into them.)"""

    def __init__(self, monkeypatch, *module_names: str) -> None:
        import importlib

        self.moment: datetime | None = None
        for name in module_names:
            monkeypatch.setattr(importlib.import_module(name), "now_utc", self.now)

    def now(self) -> datetime:
        return self.moment or datetime.now(UTC)

    def set_to(self, moment: datetime | str) -> None:
        self.moment = datetime.fromisoformat(moment) if isinstance(moment, str) else moment


def in_function(monkeypatch, logical_id: str) -> None:
    """Call the layer directly as this function would: with its template environment."""
    from clinic.config import settings
    from local_stack import template as tpl

    for key, value in tpl.function(logical_id).environment.items():
        monkeypatch.setenv(key, value)
    settings.cache_clear()
