"""Storage faults before, during and after each write: the stored state is wholly before or wholly
after — never a lock without its appointment or the reverse — the client gets a clean 503 with
Retry-After, and a retry (with the same Idempotency-Key where the route takes one) completes
exactly once.

Faults are injected below every boto3 client (ours and Powertools'): for a write request, each of
its DynamoDB write calls in turn fails *before* it is sent (nothing applied) or *after* it was
applied (the answer is lost) — the first call is "before", the last "after", the rest "during"."""

from __future__ import annotations

import contextlib
import json
import time
from dataclasses import dataclass

import pytest
from botocore.client import BaseClient
from botocore.exceptions import ClientError

from tests import days
from tests.claims import claims_of
from tests.days import at
from tests.handlers.conftest import event_for, load_function
from tests.handlers.test_appointments import DOCTOR, PATIENT

STAFF = claims_of("staff", sub="staff-1")
WRITES = {"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"}


@dataclass
class Fault:
    index: int  # which write call of the request
    phase: str  # "before" or "after"


class Injector:
    def __init__(self):
        self.fault: Fault | None = None
        self.writes: list[str] = []
        self.original = BaseClient._make_api_call

    def __call__(self, client, operation, params):
        if client.meta.service_model.service_name != "dynamodb" or operation not in WRITES:
            return self.original(client, operation, params)
        index = len(self.writes)
        self.writes.append(operation)
        if self.fault and self.fault.index == index and self.fault.phase == "before":
            raise ClientError({"Error": {"Code": "InternalServerError", "Message": "injected"}}, operation)
        answer = self.original(client, operation, params)
        if self.fault and self.fault.index == index and self.fault.phase == "after":
            raise ClientError({"Error": {"Code": "ServiceUnavailable", "Message": "injected: answer lost"}}, operation)
        return answer


@pytest.fixture
def injector(aws, monkeypatch):
    injector = Injector()
    monkeypatch.setattr(BaseClient, "_make_api_call", lambda c, o, p: injector(c, o, p))
    return injector


def scan(aws, suffix):
    name = next(n for n in aws.list_tables()["TableNames"] if n.endswith(suffix))
    return aws.scan(TableName=name)["Items"]


def assert_locks_agree_with_appointments(aws):
    """Every live appointment holds exactly its cells (its doctor's with buffers), and nothing else
    holds any; the patient's open-appointment count and the doctor–patient links agree too."""
    from boto3.dynamodb.types import TypeDeserializer

    from clinic.data import locks
    from clinic.data.appointments import Occupancy
    from clinic.data.dynamo import plain

    unpack = TypeDeserializer().deserialize
    held, counters = {}, {}
    for raw in scan(aws, "SlotLocksTable"):
        item = plain({k: unpack(v) for k, v in raw.items()})
        if item["hour"].startswith("#"):
            counters[(item["owner"], item["hour"])] = item.get("n", 0)
            continue
        for attribute, value in item.items():
            if attribute.startswith("m") and len(attribute) == 3:
                held[(item["owner"], item["hour"], attribute)] = value
    wanted, open_count, links = {}, {}, {}
    for raw in scan(aws, "AppointmentsTable"):
        item = plain({k: unpack(v) for k, v in raw.items()})
        if item["status"] != "cancelled":
            links[(locks.doctor_owner(item["doctor_id"]), "#patient#" + item["patient_id"])] = (
                links.get((locks.doctor_owner(item["doctor_id"]), "#patient#" + item["patient_id"]), 0) + 1
            )
        if item["status"] in ("booked", "arrived"):
            key = (locks.patient_owner(item["patient_id"]), "#open")
            open_count[key] = open_count.get(key, 0) + 1
        if item["status"] == "cancelled":
            continue
        occupancy = Occupancy.of(item)
        for owner, cells in (
            (locks.doctor_owner(item["doctor_id"]), occupancy.doctor_cells()),
            (locks.patient_owner(item["patient_id"]), occupancy.patient_cells()),
        ):
            for cell in cells:
                wanted[(owner, locks.hour_key(cell), f"m{cell.minute:02d}")] = item["id"]
    assert held == wanted
    assert {k: v for k, v in counters.items() if v} == {**open_count, **links}


def business_state(aws):
    return {
        suffix: sorted(
            str(sorted((k, str(v)) for k, v in i.items() if k not in ("updated_at",))) for i in scan(aws, suffix)
        )
        for suffix in ("PatientsTable", "DoctorsTable", "AppointmentsTable", "SlotLocksTable")
    }


def setup_world(invoke):
    def post(function, resource, body):
        return invoke(function, event_for("POST", resource, body=body, claims=STAFF))["json"]["id"]

    day = days.monday()
    world = {
        "doctor": post("CreateDoctorFunction", "/doctors", DOCTOR),
        "patient": post("RegisterPatientFunction", "/patients", PATIENT),
        "day": day,
    }
    world["appointment"] = post(
        "BookAppointmentFunction",
        "/appointments",
        {"patient_id": world["patient"], "doctor_id": world["doctor"], "start": at(day, "09:00")},
    )
    return world


def request_for(kind, world):
    """(function, event, key?) of one write request, and how many records of its kind it creates."""
    if kind == "register":
        return (
            "RegisterPatientFunction",
            event_for("POST", "/patients", body={**PATIENT, "given_name": "New"}, claims=STAFF),
            "k-register",
        )
    if kind == "book":
        return (
            "BookAppointmentFunction",
            event_for(
                "POST",
                "/appointments",
                claims=STAFF,
                body={"patient_id": world["patient"], "doctor_id": world["doctor"], "start": at(world["day"], "10:00")},
            ),
            "k-book",
        )
    if kind == "series":
        return (
            "BookSeriesFunction",
            event_for(
                "POST",
                "/appointment-series",
                claims=STAFF,
                body={
                    "patient_id": world["patient"],
                    "doctor_id": world["doctor"],
                    "start": at(world["day"], "14:00"),
                    "repeat": {"every_weeks": 1, "count": 3},
                },
            ),
            "k-series",
        )
    if kind == "cancel":
        return (
            "CancelAppointmentFunction",
            event_for(
                "POST",
                "/appointments/{appointment_id}/cancel",
                {"appointment_id": world["appointment"]},
                body={"reason": "ill"},
                claims=STAFF,
            ),
            "k-cancel",
        )
    if kind == "reschedule":
        return (
            "UpdateAppointmentFunction",
            event_for(
                "PATCH",
                "/appointments/{appointment_id}",
                {"appointment_id": world["appointment"]},
                body={"start": at(world["day"], "11:00")},
                claims=STAFF,
            ),
            None,
        )
    if kind == "update":
        return (
            "UpdatePatientFunction",
            event_for(
                "PATCH",
                "/patients/{patient_id}",
                {"patient_id": world["patient"]},
                body={"phone": "+15550107777"},
                claims=STAFF,
            ),
            None,
        )
    raise AssertionError(kind)


class ShortInvocation:
    """A Lambda context with 0.4 s left: the in-progress record of a failed keyed request
    expires with the invocation, as it does when a function times out. (The request deadline is
    lifted for it in ``send``: with 0.4 s left it would rightly refuse every call.)"""

    function_name, memory_limit_in_mb, aws_request_id = "test", 512, "short"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:test"

    def __init__(self):
        self.deadline = time.monotonic() + 0.4

    def get_remaining_time_in_millis(self):
        return max(0, int((self.deadline - time.monotonic()) * 1000))


def send(invoke, kind, world, short=False):
    function, event, key = request_for(kind, world)
    if key:
        event["headers"]["Idempotency-Key"] = key
    if not short:
        return invoke(function, event)
    from clinic.data import dynamo

    with pytest.MonkeyPatch.context() as patch:
        # lifted whole, not shortened: 0.4 s of a loaded machine's time would refuse a call before the
        # injected fault is reached, and the case would test another failure than its own
        patch.setattr(dynamo, "deadline_of", lambda _context: contextlib.nullcontext())
        response = load_function(function).lambda_handler(event, ShortInvocation())
    response["json"] = json.loads(response["body"])
    response["headers"] = {
        **response.get("headers", {}),
        **{k: v[-1] for k, v in (response.get("multiValueHeaders") or {}).items()},
    }
    return response


KINDS = ("register", "book", "series", "cancel", "reschedule", "update")
# how many DynamoDB write calls each request makes (checked below, so this table cannot go stale): the
# audit record rides in each write's own transaction (a patient's registration and change included)
WRITE_CALLS = {"register": 3, "book": 3, "series": 3, "cancel": 3, "reschedule": 1, "update": 1}


@pytest.mark.parametrize("kind", KINDS)
def test_write_calls_per_request(invoke, injector, kind):
    world = setup_world(invoke)
    injector.writes.clear()
    assert send(invoke, kind, world)["statusCode"] < 300
    assert len(injector.writes) == WRITE_CALLS[kind], injector.writes


CASES = [
    pytest.param(kind, index, phase, id=f"{kind}-write{index}-{phase}")
    for kind in KINDS
    for index in range(WRITE_CALLS[kind])
    for phase in ("before", "after")
]


@pytest.mark.parametrize("kind,index,phase", CASES)
def test_a_fault_leaves_whole_state_and_a_retry_completes_once(invoke, aws, injector, kind, index, phase):
    world = setup_world(invoke)
    before = business_state(aws)
    injector.writes.clear()
    injector.fault = Fault(index, phase)
    failed = send(invoke, kind, world, short=True)
    injector.fault = None
    assert len(injector.writes) > index, injector.writes  # it was the injected fault that failed it
    # the client gets a clean, retryable answer
    assert failed["statusCode"] == 503, failed
    assert failed["headers"]["Retry-After"] and failed["json"]["code"] == "SERVICE_UNAVAILABLE"
    assert "injected" not in failed["body"]
    # nothing half-done
    assert_locks_agree_with_appointments(aws)
    # the retry (after Retry-After, once the failed invocation is over) completes, exactly once
    if kind in ("register", "book", "series", "cancel"):
        time.sleep(0.45)
    retried = send(invoke, kind, world)
    assert 200 <= retried["statusCode"] < 300, retried
    assert_locks_agree_with_appointments(aws)
    after = business_state(aws)
    if kind == "series":  # the answer names every occurrence, whichever attempt committed them
        assert len(retried["json"]["appointments"]) == 3, retried["json"]
    created = {
        "register": ("PatientsTable", 1),
        "book": ("AppointmentsTable", 1),
        "series": ("AppointmentsTable", 3),
    }.get(kind)
    if created:
        table, extra = created
        assert len(after[table]) == len(before[table]) + extra
    again = send(invoke, kind, world)  # and one more retry changes nothing
    if kind in ("register", "book", "series", "cancel"):
        assert again["headers"].get("Idempotent-Replayed") == "true"
    assert business_state(aws) == after or kind in ("reschedule", "update")


def test_clinic_faults_injects_storage_faults_on_request(invoke, aws, monkeypatch, caplog):
    """The switch a developer uses on the local stack: CLINIC_FAULTS=<operation>:<phase>:<probability>."""
    from clinic.data import dynamo

    world = setup_world(invoke)
    before = business_state(aws)
    from clinic import api

    metrics_emitted = []
    monkeypatch.setattr(api, "count", lambda name, **dims: metrics_emitted.append(name))
    monkeypatch.setenv("CLINIC_FAULTS", "TransactWriteItems:before:1")
    dynamo.resource.cache_clear()
    caplog.clear()
    try:
        refused = send(invoke, "book", world)
    finally:
        monkeypatch.delenv("CLINIC_FAULTS")
        dynamo.resource.cache_clear()
    assert refused["statusCode"] == 503 and refused["headers"]["Retry-After"] == "1"
    assert business_state(aws) == before
    errors = [r for r in caplog.records if r.levelname == "ERROR"]
    assert len(errors) == 1 and errors[0].storage_error == "InternalServerError"  # one error line
    assert metrics_emitted == ["StorageUnavailable"]  # and a metric
    assert send(invoke, "book", world)["statusCode"] == 201  # faults off: the retry books


def test_fault_rules_are_parsed_strictly():
    from clinic.data import faults

    assert faults.rules("PutItem:after:0.5, *:before:1") == [
        faults.Rule("PutItem", "after", 0.5),
        faults.Rule("*", "before", 1.0),
    ]
    with pytest.raises(ValueError):
        faults.rules("PutItem:during:1")


def test_a_status_change_whose_answer_was_lost_is_not_refused_by_its_own_retry(invoke, aws, monkeypatch):
    """botocore retries a call whose answer it did not get. DynamoDB answers a retried transaction's
    ClientRequestToken as the same write, but a store that does not (here moto) fails the retry's
    condition on the first attempt's own change: the service must recognise its own committed change
    and answer 200, not 409."""
    world = setup_world(invoke)
    original = BaseClient._make_api_call
    retried = []

    def commit_then_retry(client, operation, params):
        if operation == "TransactWriteItems" and not retried:
            retried.append(original(client, operation, params))  # committed, its answer lost...
        return original(client, operation, params)  # ...and botocore sends the same request again

    monkeypatch.setattr(BaseClient, "_make_api_call", commit_then_retry)
    path = {"appointment_id": world["appointment"]}
    arrived = invoke(
        "UpdateAppointmentFunction",
        event_for("PATCH", "/appointments/{appointment_id}", path, body={"status": "arrived"}, claims=STAFF),
    )
    assert retried and arrived["statusCode"] == 200 and arrived["json"]["status"] == "arrived"
    assert "status_changed_by_request" not in arrived["json"]
    # Given it arrived, when another request asks for the same change, then that is still a 409
    again = invoke(
        "UpdateAppointmentFunction",
        event_for("PATCH", "/appointments/{appointment_id}", path, body={"status": "arrived"}, claims=STAFF),
    )
    assert again["statusCode"] == 409 and again["json"]["code"] == "INVALID_TRANSITION"


class SlowInvocation(ShortInvocation):
    """A context whose clock has run on: 7.5 s of the 10 s are gone."""

    def __init__(self, remaining_s: float):
        self.deadline = time.monotonic() + remaining_s


def test_a_request_without_time_for_another_call_ends_as_a_clean_503_and_changes_nothing(invoke, aws, caplog):
    """Several slow-but-successful calls could outlast the function's Timeout (Lambda would answer
    502, with no log line, metric or audit record). Given too little time left for a worst-case
    DynamoDB call, when the request would make one, then it stops with a 503 before sending it."""
    world = setup_world(invoke)
    before = business_state(aws)
    function, event, _ = request_for("book", world)
    caplog.clear()
    response = load_function(function).lambda_handler(event, SlowInvocation(2.5))
    assert response["statusCode"] == 503 and response["headers"]["Retry-After"] == "1"
    assert json.loads(response["body"])["code"] == "SERVICE_UNAVAILABLE"
    assert business_state(aws) == before
    errors = [r for r in caplog.records if r.levelname == "ERROR"]
    assert errors[0].storage_error == "DeadlineExceeded"
    # nor can its audit record be written in the time left: that is said too (AuditWriteFailed)
    assert [r.getMessage() for r in errors] == ["storage unavailable", "audit record not written"]
    assert send(invoke, "book", world)["statusCode"] == 201  # with time enough, the retry books


def test_the_pagination_secret_unavailable_is_a_clean_503_on_a_paginated_route(invoke, aws, monkeypatch):
    from clinic import pagination

    # Given a deployed function whose pagination secret cannot be read (here: no such secret)
    monkeypatch.delenv("PAGINATION_SECRET", raising=False)
    monkeypatch.setenv(
        "PAGINATION_SECRET_ARN", "arn:aws:secretsmanager:us-east-1:123456789012:secret:clinic-pagination-AbCdEf"
    )
    pagination._secrets.cache_clear()
    try:
        # When a client pages through patients
        answer = invoke(
            "ListPatientsFunction",
            event_for("GET", "/patients", query={"limit": "1", "next_token": "gAAAAAB-anything"}, claims=STAFF),
        )
    finally:
        pagination._secrets.cache_clear()
    # Then 503 with Retry-After, as for any storage fault, not a 500
    assert answer["statusCode"] == 503, answer
    assert answer["headers"]["Retry-After"] == "1" and answer["json"]["code"] == "SERVICE_UNAVAILABLE"
