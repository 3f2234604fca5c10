"""The audit trail: every read and write of a patient's data, denials included, leaves a record
of who, what, when, the request id and the outcome — ids only, append-only, and readable by staff
through GET /patients/{patient_id}/access-log."""

from __future__ import annotations

import uuid

import pytest
from botocore.exceptions import ClientError

from local_stack import template as tpl
from tests import days
from tests.claims import claims_of
from tests.days import at
from tests.handlers.conftest import event_for
from tests.handlers.test_appointments import DOCTOR, PATIENT

STAFF = claims_of("staff", sub="staff-user-1")
RECORD_FIELDS = {
    "subject",
    "at",
    "recorded_at",
    "action",
    "outcome",
    "status",
    "actor_sub",
    "actor_role",
    "request_id",
    "patient_id",
    "appointment_id",
    "doctor_id",
}


def as_patient(patient_id: str) -> dict[str, str]:
    return claims_of("patient", patient_id, sub=f"patient-user-{patient_id[:8]}")


def history(invoke, patient_id: str) -> list[dict]:
    response = invoke(
        "PatientAccessLogFunction",
        event_for(
            "GET", "/patients/{patient_id}/access-log", {"patient_id": patient_id}, claims=STAFF, query={"limit": "100"}
        ),
    )
    assert response["statusCode"] == 200, response
    return response["json"]["items"]


def audit_items(aws) -> list[dict]:
    name = next(n for n in aws.list_tables()["TableNames"] if n.endswith("AuditTable"))
    return aws.scan(TableName=name)["Items"]


@pytest.fixture
def patient(invoke):
    response = invoke("RegisterPatientFunction", event_for("POST", "/patients", body=PATIENT, claims=STAFF))
    return response["json"]["id"]


def test_reads_writes_and_denials_are_in_the_patients_history(invoke, aws, patient):
    # Given a registered patient, read by staff, by themself, and tried by another patient
    read = invoke(
        "GetPatientFunction", event_for("GET", "/patients/{patient_id}", {"patient_id": patient}, claims=STAFF)
    )
    invoke(
        "GetPatientFunction",
        event_for("GET", "/patients/{patient_id}", {"patient_id": patient}, claims=as_patient(patient)),
    )
    stranger = str(uuid.uuid4())
    denied = invoke(
        "GetPatientFunction",
        event_for("GET", "/patients/{patient_id}", {"patient_id": patient}, claims=as_patient(stranger)),
    )
    assert denied["statusCode"] == 404
    # When staff read the patient's access log
    records = history(invoke, patient)
    # Then every access is there, newest first, with who, what, when, request id and outcome
    assert [(r["action"], r["outcome"], r["actor_role"]) for r in records] == [
        ("patient.read", "denied", "patients"),
        ("patient.read", "allowed", "patients"),
        ("patient.read", "allowed", "staff"),
        ("patient.register", "allowed", "staff"),
    ]
    assert records[2]["request_id"] == read["headers"]["X-Request-Id"]
    assert records[0]["actor_sub"] == f"patient-user-{stranger[:8]}"
    assert all(r["at"].endswith("Z") for r in records)


def test_appointment_writes_and_schedules_are_audited_per_patient(invoke, aws, patient):
    doctor = invoke("CreateDoctorFunction", event_for("POST", "/doctors", body=DOCTOR, claims=STAFF))["json"]["id"]
    booked = invoke(
        "BookAppointmentFunction",
        event_for(
            "POST",
            "/appointments",
            body={"patient_id": patient, "doctor_id": doctor, "start": at(days.monday(), "09:00")},
            claims=STAFF,
        ),
    )
    appointment = booked["json"]["id"]
    invoke(
        "CancelAppointmentFunction",
        event_for(
            "POST",
            "/appointments/{appointment_id}/cancel",
            {"appointment_id": appointment},
            body={"reason": "ill"},
            claims=STAFF,
        ),
    )
    actions = [(r["action"], r.get("appointment_id")) for r in history(invoke, patient)]
    assert ("appointment.book", appointment) in actions
    assert ("appointment.cancel", appointment) in actions


def test_denied_and_failed_appointment_requests_are_on_the_patients_trail(invoke, aws, patient):
    """Given an appointment of our patient, when another doctor tries to read it (404) and staff try an
    impossible reschedule (422), then both attempts are in the patient's history."""
    doctor = invoke("CreateDoctorFunction", event_for("POST", "/doctors", body=DOCTOR, claims=STAFF))["json"]["id"]
    booked = invoke(
        "BookAppointmentFunction",
        event_for(
            "POST",
            "/appointments",
            body={"patient_id": patient, "doctor_id": doctor, "start": at(days.monday(), "09:00")},
            claims=STAFF,
        ),
    )
    path = {"appointment_id": booked["json"]["id"]}
    second = invoke("CreateDoctorFunction", event_for("POST", "/doctors", body=DOCTOR, claims=STAFF))["json"]["id"]
    other_doctor = claims_of("doctor", second, sub="doctor-2")
    peek = invoke(
        "GetAppointmentFunction", event_for("GET", "/appointments/{appointment_id}", path, claims=other_doctor)
    )
    assert peek["statusCode"] == 404
    move = invoke(
        "UpdateAppointmentFunction",
        event_for(
            "PATCH", "/appointments/{appointment_id}", path, body={"start": at(days.monday(), "03:00")}, claims=STAFF
        ),
    )
    assert move["statusCode"] == 422
    trail = [(r["action"], r["outcome"], r["status"], r["actor_role"]) for r in history(invoke, patient)]
    assert ("appointment.read", "denied", 404, "doctors") in trail
    assert ("appointment.update", "failed", 422, "staff") in trail


def test_a_list_leaves_one_record_per_patient_returned(invoke, aws, patient):
    other = invoke("RegisterPatientFunction", event_for("POST", "/patients", body=PATIENT, claims=STAFF))["json"]["id"]
    invoke("ListPatientsFunction", event_for("GET", "/patients", claims=STAFF))
    listed = [i for i in audit_items(aws) if i["action"]["S"] == "patient.list"]
    assert sorted(i["patient_id"]["S"] for i in listed) == sorted([patient, other])
    assert len({i["request_id"]["S"] for i in listed}) == 1


def test_records_hold_ids_and_codes_only(invoke, aws, patient):
    invoke(
        "UpdatePatientFunction",
        event_for(
            "PATCH",
            "/patients/{patient_id}",
            {"patient_id": patient},
            body={"phone": "+15550109999", "conditions": ["asthma"]},
            claims=STAFF,
        ),
    )
    items = audit_items(aws)
    assert len(items) >= 2, "the registration and the update each left a record"  # else the loop proves nothing
    for item in items:
        assert set(item) <= RECORD_FIELDS, item
        text = str(item)
        assert "+15550109999" not in text and "asthma" not in text and PATIENT["family_name"] not in text


def test_without_an_audit_record_the_data_is_not_handed_out(invoke, aws, patient, monkeypatch):
    from clinic.data import audit_log

    def broken(records):
        raise ClientError(
            {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow down"}}, "PutItem"
        )

    monkeypatch.setattr(audit_log, "append", broken)
    response = invoke(
        "GetPatientFunction", event_for("GET", "/patients/{patient_id}", {"patient_id": patient}, claims=STAFF)
    )
    assert response["statusCode"] == 503
    assert response["headers"]["Retry-After"] == "1"
    assert PATIENT["family_name"] not in response["body"]


def test_the_audit_table_is_append_only_for_every_role():
    resources = tpl.load()["Resources"]
    denied = resources["AuditTable"]["Properties"]["ResourcePolicy"]["PolicyDocument"]["Statement"][0]
    assert denied["Effect"] == "Deny" and denied["Principal"] == "*"
    assert {"dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"} <= set(denied["Action"])
    for name, resource in resources.items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        for policy in resource["Properties"].get("Policies", []):
            for statement in policy.get("Statement", []):
                targets = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
                if {"Fn::GetAtt": ["AuditTable", "Arn"]} in targets:
                    allowed = (
                        {"dynamodb:PutItem", "dynamodb:Query"}
                        if name == "PatientAccessLogFunction"
                        else {"dynamodb:PutItem"}
                    )
                    assert set(statement["Action"]) <= allowed, (name, statement)
