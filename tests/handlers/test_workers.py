"""Background functions (clinic.workers) on the events their triggers send: each declared worker has
its function and event file, and does its job."""

from __future__ import annotations

import json

import pytest

from clinic import workers
from local_stack import ROOT
from tests.handlers.conftest import LambdaContext, load_event, load_function


@pytest.mark.parametrize("worker", workers.WORKERS, ids=lambda w: w.function)
def test_every_declared_worker_has_its_function_and_event_file(worker):
    assert (ROOT / "functions" / worker.code_dir / "app.py").is_file(), worker.function
    assert list((ROOT / "events").glob(f"{worker.code_dir}*.json")), f"no events/{worker.code_dir}.json"


def emitted(capsys) -> list[str]:
    names = []
    for line in capsys.readouterr().out.splitlines():
        if line.startswith("{") and '"_aws"' in line:
            record = json.loads(line)
            names += [m["Name"] for d in record["_aws"]["CloudWatchMetrics"] for m in d["Metrics"]]
    return names


def test_a_modified_audit_record_is_reported_and_pages(aws, capsys, caplog):
    # Given the audit table's stream says a record was modified
    event = load_event("audit_tamper_alarm")
    # When the tamper alarm's function handles it
    answer = load_function("AuditTamperAlarmFunction").lambda_handler(event, LambdaContext())
    # Then the batch succeeds, one ERROR names the record (ids only) and AuditTampered is counted
    assert answer == {"batchItemFailures": []}
    errors = [r for r in caplog.records if r.levelname == "ERROR"]
    assert [r.getMessage() for r in errors] == ["an audit record was modified or removed"]
    assert errors[0].event_name == "MODIFY" and errors[0].subject.startswith("patient#")
    assert "AuditTampered" in emitted(capsys)


def test_an_appended_audit_record_is_not_tampering(aws, capsys, caplog):
    event = load_event("audit_tamper_alarm")
    event["Records"][0]["eventName"] = "INSERT"
    load_function("AuditTamperAlarmFunction").lambda_handler(event, LambdaContext())
    assert not [r for r in caplog.records if r.levelname == "ERROR"]
    assert "AuditTampered" not in emitted(capsys)
