"""Idempotency-Key (API.md "Idempotency"): a retried create or cancel is answered, not repeated."""

from __future__ import annotations

import pytest

from tests import days
from tests.claims import claims_of
from tests.days import at
from tests.handlers.conftest import event_for
from tests.handlers.helpers import problem, snapshot
from tests.handlers.test_appointments import DOCTOR, PATIENT

STAFF = claims_of("staff", sub="staff-1")


def post(invoke, function, resource, body, key=None, claims=STAFF, path=None, raw=None):
    request = event_for("POST", resource, path, body=body, claims=claims, raw_body=raw)
    if key is not None:
        request["headers"]["Idempotency-Key"] = key
    return invoke(function, request)


def count_items(aws, suffix):
    name = next(n for n in aws.list_tables()["TableNames"] if n.endswith(suffix))
    return aws.scan(TableName=name, Select="COUNT")["Count"]


def test_a_replay_gets_the_first_answer_and_creates_nothing(invoke, aws):
    first = post(invoke, "RegisterPatientFunction", "/patients", PATIENT, key="k-1")
    again = post(invoke, "RegisterPatientFunction", "/patients", PATIENT, key="k-1")
    assert first["statusCode"] == again["statusCode"] == 201
    assert again["json"] == first["json"]
    assert again["headers"]["Location"] == first["headers"]["Location"]
    assert again["headers"]["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first["headers"]
    assert count_items(aws, "PatientsTable") == 1


def test_the_same_key_with_another_body_is_refused(invoke, aws):
    post(invoke, "CreateDoctorFunction", "/doctors", DOCTOR, key="k-2")
    before = snapshot(aws)
    other = post(invoke, "CreateDoctorFunction", "/doctors", {**DOCTOR, "family_name": "Else"}, key="k-2")
    problem(other, 422, "IDEMPOTENCY_KEY_REUSED")
    assert snapshot(aws) == before


def test_keys_are_scoped_to_the_caller(invoke, aws):
    post(invoke, "RegisterPatientFunction", "/patients", PATIENT, key="shared")
    other_staff = claims_of("staff", sub="staff-2")
    second = post(invoke, "RegisterPatientFunction", "/patients", PATIENT, key="shared", claims=other_staff)
    assert second["statusCode"] == 201 and "Idempotent-Replayed" not in second["headers"]
    assert count_items(aws, "PatientsTable") == 2


@pytest.mark.parametrize("key", ["", "x" * 256])
def test_a_key_outside_1_to_255_characters_is_422(invoke, aws, key):
    before = snapshot(aws)
    problem(post(invoke, "RegisterPatientFunction", "/patients", PATIENT, key=key), 422, "VALIDATION_ERROR")
    assert snapshot(aws) == before


def test_a_request_that_failed_validation_is_not_remembered(invoke, aws):
    problem(post(invoke, "RegisterPatientFunction", "/patients", None, key="k-3", raw="{oops"), 400, "MALFORMED_JSON")
    problem(
        post(invoke, "RegisterPatientFunction", "/patients", {**PATIENT, "sex": "?"}, key="k-3"),
        422,
        "VALIDATION_ERROR",
    )
    created = post(invoke, "RegisterPatientFunction", "/patients", PATIENT, key="k-3")
    assert created["statusCode"] == 201 and "Idempotent-Replayed" not in created["headers"]


def test_a_failed_booking_is_not_remembered_and_a_cancel_replays(invoke, aws):
    doctor = post(invoke, "CreateDoctorFunction", "/doctors", DOCTOR)["json"]["id"]
    patient = post(invoke, "RegisterPatientFunction", "/patients", PATIENT)["json"]["id"]
    other = post(invoke, "RegisterPatientFunction", "/patients", {**PATIENT, "given_name": "O"})["json"]["id"]
    start = at(days.monday(), "09:00")
    taken = post(
        invoke, "BookAppointmentFunction", "/appointments", {"patient_id": other, "doctor_id": doctor, "start": start}
    )["json"]["id"]
    booking = {"patient_id": patient, "doctor_id": doctor, "start": start}
    problem(post(invoke, "BookAppointmentFunction", "/appointments", booking, key="b-1"), 409, "SLOT_UNAVAILABLE")
    # the slot frees up; the same key now books (the 409 was not remembered)
    path = {"appointment_id": taken}
    cancel = post(
        invoke,
        "CancelAppointmentFunction",
        "/appointments/{appointment_id}/cancel",
        {"reason": "ill"},
        key="c-1",
        path=path,
    )
    replay = post(
        invoke,
        "CancelAppointmentFunction",
        "/appointments/{appointment_id}/cancel",
        {"reason": "ill"},
        key="c-1",
        path=path,
    )
    assert cancel["statusCode"] == replay["statusCode"] == 200 and replay["json"] == cancel["json"]
    assert replay["headers"]["Idempotent-Replayed"] == "true"
    booked = post(invoke, "BookAppointmentFunction", "/appointments", booking, key="b-1")
    assert booked["statusCode"] == 201 and "Idempotent-Replayed" not in booked["headers"]


def test_a_keyed_cancel_of_an_appointment_someone_else_cancelled_is_409(invoke, aws):
    """Given an appointment cancelled by one request, when another request with its own key cancels it
    with the same reason, then it is refused as INVALID_TRANSITION, not taken for its own earlier write."""
    doctor = post(invoke, "CreateDoctorFunction", "/doctors", DOCTOR)["json"]["id"]
    patient = post(invoke, "RegisterPatientFunction", "/patients", PATIENT)["json"]["id"]
    booked = post(
        invoke,
        "BookAppointmentFunction",
        "/appointments",
        {"patient_id": patient, "doctor_id": doctor, "start": at(days.monday(), "09:00")},
    )["json"]["id"]
    path = {"appointment_id": booked}
    first = post(
        invoke, "CancelAppointmentFunction", "/appointments/{appointment_id}/cancel", {"reason": "sick"}, path=path
    )
    assert first["statusCode"] == 200
    problem(
        post(
            invoke,
            "CancelAppointmentFunction",
            "/appointments/{appointment_id}/cancel",
            {"reason": "sick"},
            key="another-request",
            path=path,
        ),
        409,
        "INVALID_TRANSITION",
    )


@pytest.mark.clock_sensitive
def test_idempotency_records_expire_after_a_day(invoke, aws):
    import time

    before = time.time()
    post(invoke, "RegisterPatientFunction", "/patients", PATIENT, key="k-ttl")
    after = time.time()
    name = next(n for n in aws.list_tables()["TableNames"] if n.endswith("IdempotencyTable"))
    item = aws.scan(TableName=name)["Items"][0]
    # a day after the request, whenever it ran and however long it took (Powertools stores whole seconds)
    assert int(before) + 24 * 3600 <= int(item["expiration"]["N"]) <= after + 24 * 3600
