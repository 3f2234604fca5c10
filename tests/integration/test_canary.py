"""Canary: a whole clinic visit over real HTTP, then proof that no patient data reached any log.

Register a patient with values found nowhere else, search for them, create a doctor, book,
reschedule, cancel and read back. Then every line the local stack wrote (function logs, EMF
metric lines, the gateway's access log) is searched for those values. Function log lines must be
structured: JSON with the request id as correlation id, the function, cold start and route.
"""

from __future__ import annotations

import ast
import json
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import requests

from local_stack import ROOT
from tests import days

ALL_DAY = {d: [{"start": "00:00", "end": "24:00"}] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}

# Distinctive patient data: if any of these strings shows up in a log line, it leaked.
PATIENT = {
    "given_name": "Zyxwvutsrq",
    "family_name": "Qponmlkjihg",
    "birth_date": "1937-04-23",
    "sex": "female",
    "phone": "+15550109876",
    "email": "zyxwvutsrq.canary@example.org",
    "conditions": ["Xerophthalmia-canary-7731", "Vwxyzitis-canary-4410"],
}
APPOINTMENT_REASON = "Canary reason: humming in the left ear since Qwertzday"
CANCEL_REASON = "Canary cancellation: moved to Zanzibarq"
SEARCH_PREFIX = "qponmlk"


def secrets() -> list[str]:
    values = [
        PATIENT["given_name"],
        PATIENT["family_name"],
        PATIENT["birth_date"],
        PATIENT["phone"],
        PATIENT["email"],
        *PATIENT["conditions"],
        APPOINTMENT_REASON,
        CANCEL_REASON,
        SEARCH_PREFIX,
    ]
    # Also the case-folded forms the code derives (the family-name search key).
    return sorted({v for value in values for v in (value, value.casefold())})


def settled_lines(stack) -> list[str]:
    """The log file once it stops growing (function logs arrive just after their responses)."""
    lines, deadline = stack.log_lines(), time.monotonic() + 10
    while time.monotonic() < deadline:
        time.sleep(0.5)
        again = stack.log_lines()
        if len(again) == len(lines):
            return again
        lines = again
    return lines


def utc_iso(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture(scope="module")
def visit(stack):
    """The scenario, once; every step must succeed."""
    headers = stack.headers("staff")

    def call(method: str, path: str, body=None, expect: int = 200, **params):
        response = requests.request(
            method, stack.url + path, json=body, params=params or None, headers=headers, timeout=60
        )
        assert response.status_code == expect, f"{method} {path}: {response.status_code} {response.text}"
        return response.json()

    patient = call("POST", "/patients", PATIENT, expect=201)
    found = call("POST", "/patients/search", {"family_name_prefix": SEARCH_PREFIX})
    assert patient["id"] in [p["id"] for p in found["items"]]

    doctor = call(
        "POST",
        "/doctors",
        {
            "given_name": "Canary",
            "family_name": "Doctor",
            "specialty": "Otology",
            "time_zone": "UTC",
            "slot_minutes": 15,
            "working_hours": ALL_DAY,
        },
        expect=201,
    )
    start = days.midnight(9) + timedelta(hours=10)  # the doctor works in UTC, all day
    booked = call(
        "POST",
        "/appointments",
        {
            "patient_id": patient["id"],
            "doctor_id": doctor["id"],
            "start": utc_iso(start),
            "duration_minutes": 30,
            "reason": APPOINTMENT_REASON,
        },
        expect=201,
    )
    moved = call("PATCH", f"/appointments/{booked['id']}", {"start": utc_iso(start + timedelta(hours=2))})
    assert moved["start"] == utc_iso(start + timedelta(hours=2))
    cancelled = call("POST", f"/appointments/{booked['id']}/cancel", {"reason": CANCEL_REASON})
    assert cancelled["status"] == "cancelled"
    read = call("GET", f"/appointments/{booked['id']}")
    assert read["status"] == "cancelled" and read["reason"] == APPOINTMENT_REASON
    assert call("GET", f"/patients/{patient['id']}")["phone"] == PATIENT["phone"]
    return {"patient": patient["id"], "doctor": doctor["id"], "appointment": booked["id"]}


def test_given_a_full_visit_when_the_logs_are_searched_then_no_patient_value_appears(stack, visit):
    lines = settled_lines(stack)
    assert any(visit["appointment"] in line for line in lines), "the visit's logs were not written to the log file"
    leaks = [(value, line[:200]) for line in lines for value in secrets() if value in line]
    assert not leaks, f"patient data in the logs: {leaks[:5]}"


def test_given_a_full_visit_then_every_function_log_line_is_structured(stack, visit):
    records = []
    for line in settled_lines(stack):
        record = json.loads(line)  # every line is JSON: function logs, EMF lines, access logs
        assert isinstance(record, dict), line
        records.append(record)
    # (the local plumbing's own lines — streams, bus, scheduler — have no "service": only ours do)
    function_logs = [r for r in records if "level" in r and "service" in r and "_aws" not in r and "requestId" not in r]
    assert function_logs
    from clinic.workers import WORKERS

    background = {w.logical_id for w in WORKERS}
    for record in function_logs:
        # a route's lines name it; a background function's have its invocation's id instead
        wanted = {"correlation_id", "function_name", "cold_start"} | (
            set() if record.get("function_name") in background else {"route"}
        )
        missing = wanted - set(record)
        assert not missing, f"{missing} missing from {record}"
    ours = {r["correlation_id"] for r in function_logs if visit["appointment"] in json.dumps(r)}
    access = {r["requestId"] for r in records if "httpMethod" in r}
    assert ours and ours <= access, "the correlation id is the request id the gateway logged"


def test_the_code_never_puts_request_data_into_traces():
    # Tracer is off locally, so this is a source scan: no annotations or metadata at all (ids
    # would be fine, but none are needed and a body or model would be a leak).
    offenders = []
    for folder in (ROOT / "layers", ROOT / "functions"):
        for path in folder.rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and node.func.attr in ("put_annotation", "put_metadata")
                ):
                    offenders.append(f"{Path(path).relative_to(ROOT)}:{node.lineno}")
    assert not offenders, offenders
    api = (ROOT / "layers" / "shared" / "clinic" / "observability.py").read_text(encoding="utf-8")
    assert "capture_response=False" in api


def test_given_a_full_visit_then_no_patient_value_is_in_any_domain_event(stack, visit):
    """Events go to other systems (reminder texts, billing, analytics): ids and times only."""
    deadline, found = time.monotonic() + 20, []
    while time.monotonic() < deadline:
        found = requests.get(f"{stack.url}/_local/events", timeout=30).json()["items"]
        if any(
            e["detail"].get("appointment_id") == visit["appointment"] and e["detail-type"] == "AppointmentCancelled"
            for e in found
        ):
            break
        time.sleep(0.5)
    mine = [e for e in found if e["detail"].get("appointment_id") == visit["appointment"]]
    assert [e["detail-type"] for e in mine] == ["AppointmentBooked", "AppointmentRescheduled", "AppointmentCancelled"]
    text = json.dumps(found)
    leaks = [value for value in secrets() if value in text]
    assert not leaks, f"patient data in events: {leaks}"
