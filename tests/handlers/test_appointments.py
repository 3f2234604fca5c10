"""Appointments through their functions: booking rules, lifecycle, one transaction per write,
and the time queries. Days come from tests/days.py: at least two days ahead at any hour, so the tests never age."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from tests import days
from tests.days import NY, at
from tests.handlers.helpers import event, problem, snapshot

__all__ = ["DOCTOR", "NY", "PATIENT", "at", "next_monday"]  # what the other test modules import from here
WEEKDAY_HOURS = [{"start": "09:00", "end": "12:00"}, {"start": "13:00", "end": "17:00"}]
DOCTOR = {
    "given_name": "Doc",
    "family_name": "Tor",
    "specialty": "Family medicine",
    "time_zone": "America/New_York",
    "slot_minutes": 15,
    "working_hours": dict.fromkeys(("mon", "tue", "wed", "thu", "fri"), WEEKDAY_HOURS),
}
PATIENT = {"given_name": "Pat", "family_name": "Ient", "birth_date": "1980-05-05", "sex": "other"}


def next_monday(weeks_ahead: int = 1) -> date:
    """The old name, kept for tests written against it: no longer "the Monday after today" (today, in
    UTC, late on a Sunday in New York) but ``days.monday``: a Monday at least two days ahead."""
    return days.monday(weeks_later=weeks_ahead - 1)


@pytest.fixture
def clinic(invoke):
    doctor = invoke("CreateDoctorFunction", event("create_doctor", body=DOCTOR))["json"]
    patient = invoke("RegisterPatientFunction", event("register_patient", body=PATIENT))["json"]
    other = invoke("RegisterPatientFunction", event("register_patient", body={**PATIENT, "given_name": "O"}))["json"]
    return {"doctor": doctor["id"], "patient": patient["id"], "other": other["id"], "day": days.monday()}


def book(invoke, clinic, start: str, patient: str | None = None, **fields):
    body = {"patient_id": patient or clinic["patient"], "doctor_id": clinic["doctor"], "start": start, **fields}
    return invoke("BookAppointmentFunction", event("book_appointment", body=body))


def test_booking_answers_201_in_utc_with_defaults(invoke, clinic):
    response = book(invoke, clinic, at(clinic["day"], "09:00"), reason="check-up")
    assert response["statusCode"] == 201, response
    body = response["json"]
    assert response["headers"]["Location"] == f"/appointments/{body['id']}"
    assert body["status"] == "booked" and body["duration_minutes"] == 15 and body["cancellation_reason"] is None
    assert body["start"].endswith("Z") and body["end"].endswith("Z")
    start = datetime.fromisoformat(body["start"].replace("Z", "+00:00"))
    assert start == datetime.fromisoformat(at(clinic["day"], "09:00"))
    got = invoke("GetAppointmentFunction", event("get_appointment", path={"appointment_id": body["id"]}))
    assert got["json"] == body


def test_a_booked_slot_is_refused_to_anyone_else(invoke, clinic, aws):
    assert book(invoke, clinic, at(clinic["day"], "09:00"), duration_minutes=30)["statusCode"] == 201
    before = snapshot(aws)
    # the doctor is busy 09:00-09:30: an overlapping booking by another patient is SLOT_UNAVAILABLE
    problem(book(invoke, clinic, at(clinic["day"], "09:15"), patient=clinic["other"]), 409, "SLOT_UNAVAILABLE")
    assert snapshot(aws) == before
    # the adjacent slot is free
    assert book(invoke, clinic, at(clinic["day"], "09:30"), patient=clinic["other"])["statusCode"] == 201


def test_a_patient_cannot_be_in_two_places(invoke, clinic, aws):
    second_doctor = invoke("CreateDoctorFunction", event("create_doctor", body={**DOCTOR, "slot_minutes": 20}))["json"]
    assert book(invoke, clinic, at(clinic["day"], "09:00"), duration_minutes=60)["statusCode"] == 201
    before = snapshot(aws)
    body = {"patient_id": clinic["patient"], "doctor_id": second_doctor["id"], "start": at(clinic["day"], "09:40")}
    problem(invoke("BookAppointmentFunction", event("book_appointment", body=body)), 409, "PATIENT_UNAVAILABLE")
    assert snapshot(aws) == before


def test_a_refusal_counts_the_one_conflict_it_answers(invoke, clinic, capsys):
    from tests.handlers.test_workers import emitted

    # Given the patient booked at 09:00
    assert book(invoke, clinic, at(clinic["day"], "09:00"))["statusCode"] == 201
    capsys.readouterr()
    # When the same patient books the same time again (both the doctor's and their own time are taken)
    problem(book(invoke, clinic, at(clinic["day"], "09:00")), 409, "SLOT_UNAVAILABLE")
    # Then one BookingConflict is counted, for the answer given
    assert emitted(capsys).count("BookingConflict") == 1


@pytest.mark.parametrize(
    "case, start, fields, status, code",
    [
        ("naive", "NAIVE", {}, 422, "VALIDATION_ERROR"),
        ("off grid", "09:07", {}, 422, "VALIDATION_ERROR"),
        ("duration not a multiple", "09:00", {"duration_minutes": 20}, 422, "VALIDATION_ERROR"),
        ("duration over 240", "09:00", {"duration_minutes": 255}, 422, "VALIDATION_ERROR"),
        ("duration zero", "09:00", {"duration_minutes": 0}, 422, "VALIDATION_ERROR"),
        ("before hours", "08:00", {}, 422, "OUTSIDE_WORKING_HOURS"),
        ("over lunch", "11:45", {"duration_minutes": 30}, 422, "OUTSIDE_WORKING_HOURS"),
        ("after hours", "17:00", {}, 422, "OUTSIDE_WORKING_HOURS"),
        ("unknown field", "09:00", {"status": "fulfilled"}, 422, "VALIDATION_ERROR"),
        ("reason too long", "09:00", {"reason": "x" * 501}, 422, "VALIDATION_ERROR"),
    ],
)
def test_bad_bookings_get_their_contract_error_and_change_nothing(
    invoke, clinic, aws, case, start, fields, status, code
):
    before = snapshot(aws)
    when = at(clinic["day"], "09:00")[:19] if start == "NAIVE" else at(clinic["day"], start)
    problem(book(invoke, clinic, when, **fields), status, code)
    assert snapshot(aws) == before


@pytest.mark.clock_sensitive
def test_past_and_too_far_are_422(invoke, clinic):
    past = clinic["day"] - timedelta(days=14)
    problem(book(invoke, clinic, at(past, "09:00")), 422, "VALIDATION_ERROR")
    far = clinic["day"] + timedelta(days=371)
    far -= timedelta(days=far.weekday())  # a Monday
    problem(book(invoke, clinic, at(far, "09:00")), 422, "VALIDATION_ERROR")


def test_unknown_or_inactive_patient_and_doctor(invoke, clinic, aws):
    unknown = "0b8a6a0e-4a53-4c0e-9d59-5f0c7c3d2e11"
    before = snapshot(aws)
    problem(book(invoke, clinic, at(clinic["day"], "09:00"), patient=unknown), 404, "NOT_FOUND")
    body = {"patient_id": clinic["patient"], "doctor_id": unknown, "start": at(clinic["day"], "09:00")}
    problem(invoke("BookAppointmentFunction", event("book_appointment", body=body)), 404, "NOT_FOUND")
    assert snapshot(aws) == before
    invoke(
        "UpdatePatientFunction", event("update_patient", path={"patient_id": clinic["other"]}, body={"active": False})
    )
    problem(book(invoke, clinic, at(clinic["day"], "09:00"), patient=clinic["other"]), 422, "VALIDATION_ERROR")


def count_calls(aws_client_owner):
    from clinic.data import dynamo

    calls: list[str] = []

    def record(model, params, **_):
        tables = ({params["TableName"]} if "TableName" in params else set()) | {
            next(iter(i.values()))["TableName"] for i in params.get("TransactItems", [])
        }
        if not all(str(t).endswith("AuditTable") for t in tables):  # a lone audit write is counted elsewhere
            calls.append(model.name)

    dynamo.resource().meta.client.meta.events.register("before-parameter-build.dynamodb", record)
    return calls


def test_each_booking_cancel_and_reschedule_is_one_transaction(invoke, clinic):
    calls = count_calls(None)
    booked = book(invoke, clinic, at(clinic["day"], "09:00"), duration_minutes=240 - 60)  # ends 12:00
    assert booked["statusCode"] == 201, booked
    writes = [c for c in calls if c not in ("GetItem", "Query")]
    assert writes == ["TransactWriteItems"], calls
    calls.clear()
    moved = invoke(
        "UpdateAppointmentFunction",
        event(
            "update_appointment-reschedule",
            path={"appointment_id": booked["json"]["id"]},
            body={"start": at(clinic["day"], "13:00"), "duration_minutes": 240},
        ),
    )
    assert moved["statusCode"] == 200, moved
    assert [c for c in calls if c not in ("GetItem", "Query")] == ["TransactWriteItems"], calls
    calls.clear()
    cancelled = invoke(
        "CancelAppointmentFunction", event("cancel_appointment", path={"appointment_id": booked["json"]["id"]})
    )
    assert cancelled["statusCode"] == 200, cancelled
    assert [c for c in calls if c not in ("GetItem", "Query")] == ["TransactWriteItems"], calls


def test_reschedule_moves_the_time_and_frees_the_old(invoke, clinic):
    booked = book(invoke, clinic, at(clinic["day"], "09:00"), duration_minutes=30)["json"]
    moved = invoke(
        "UpdateAppointmentFunction",
        event(
            "update_appointment-reschedule",
            path={"appointment_id": booked["id"]},
            body={"start": at(clinic["day"], "09:15")},
        ),
    )
    assert moved["statusCode"] == 200, moved
    assert moved["json"]["duration_minutes"] == 30
    # 09:00 is free again, 09:15-09:45 is taken
    assert book(invoke, clinic, at(clinic["day"], "09:00"), patient=clinic["other"])["statusCode"] == 201
    problem(book(invoke, clinic, at(clinic["day"], "09:30"), patient=clinic["other"]), 409, "SLOT_UNAVAILABLE")


def test_reschedule_onto_a_taken_slot_moves_nothing(invoke, clinic, aws):
    mine = book(invoke, clinic, at(clinic["day"], "09:00"))["json"]
    book(invoke, clinic, at(clinic["day"], "10:00"), patient=clinic["other"])
    before = snapshot(aws)
    problem(
        invoke(
            "UpdateAppointmentFunction",
            event(
                "update_appointment-reschedule",
                path={"appointment_id": mine["id"]},
                body={"start": at(clinic["day"], "10:00")},
            ),
        ),
        409,
        "SLOT_UNAVAILABLE",
    )
    assert snapshot(aws) == before


def test_cancel_needs_a_reason_and_frees_the_time_at_once(invoke, clinic, aws):
    booked = book(invoke, clinic, at(clinic["day"], "09:00"))["json"]
    before = snapshot(aws)
    problem(
        invoke(
            "CancelAppointmentFunction", event("cancel_appointment-no_reason", path={"appointment_id": booked["id"]})
        ),
        422,
        "VALIDATION_ERROR",
    )
    assert snapshot(aws) == before
    cancelled = invoke("CancelAppointmentFunction", event("cancel_appointment", path={"appointment_id": booked["id"]}))
    assert cancelled["statusCode"] == 200
    assert cancelled["json"]["status"] == "cancelled" and cancelled["json"]["cancellation_reason"]
    assert book(invoke, clinic, at(clinic["day"], "09:00"), patient=clinic["other"])["statusCode"] == 201
    # final: no second cancel, no reschedule, no status change
    path = {"appointment_id": booked["id"]}
    problem(invoke("CancelAppointmentFunction", event("cancel_appointment", path=path)), 409, "INVALID_TRANSITION")
    problem(
        invoke(
            "UpdateAppointmentFunction",
            event("update_appointment-reschedule", path=path, body={"start": at(clinic["day"], "11:00")}),
        ),
        409,
        "INVALID_TRANSITION",
    )
    problem(
        invoke("UpdateAppointmentFunction", event("update_appointment-status", path=path)), 409, "INVALID_TRANSITION"
    )


def test_lifecycle_transitions(invoke, clinic):
    booked = book(invoke, clinic, at(clinic["day"], "09:00"))["json"]
    path = {"appointment_id": booked["id"]}

    def status(value):
        return invoke(
            "UpdateAppointmentFunction", event("update_appointment-status", path=path, body={"status": value})
        )

    problem(status("fulfilled"), 409, "INVALID_TRANSITION")  # booked → fulfilled skips arrival
    assert status("arrived")["json"]["status"] == "arrived"
    problem(status("noshow"), 409, "INVALID_TRANSITION")
    problem(invoke("CancelAppointmentFunction", event("cancel_appointment", path=path)), 409, "INVALID_TRANSITION")
    assert status("fulfilled")["json"]["status"] == "fulfilled"
    problem(status("arrived"), 409, "INVALID_TRANSITION")
    problem(
        invoke("UpdateAppointmentFunction", event("update_appointment-bad_status", path=path)), 422, "VALIDATION_ERROR"
    )


def test_patch_mixing_status_and_reschedule_is_422(invoke, clinic):
    booked = book(invoke, clinic, at(clinic["day"], "09:00"))["json"]
    problem(
        invoke(
            "UpdateAppointmentFunction",
            event(
                "update_appointment-status",
                path={"appointment_id": booked["id"]},
                body={"status": "arrived", "start": at(clinic["day"], "10:00")},
            ),
        ),
        422,
        "VALIDATION_ERROR",
    )


def test_schedule_availability_and_patient_list(invoke, clinic):
    day = clinic["day"]
    first = book(invoke, clinic, at(day, "09:00"), duration_minutes=30)["json"]
    second = book(invoke, clinic, at(day, "10:00"))["json"]
    invoke("CancelAppointmentFunction", event("cancel_appointment", path={"appointment_id": second["id"]}))
    window = {"from": at(day, "00:00"), "to": at(day + timedelta(days=1), "00:00")}

    schedule = invoke(
        "DoctorScheduleFunction", event("doctor_schedule", path={"doctor_id": clinic["doctor"]}, query=window)
    )
    assert schedule["statusCode"] == 200, schedule
    assert [a["id"] for a in schedule["json"]["items"]] == [first["id"]]  # cancelled omitted

    slots = invoke(
        "DoctorAvailabilityFunction", event("doctor_availability", path={"doctor_id": clinic["doctor"]}, query=window)
    )["json"]["slots"]
    starts = [s["start"] for s in slots]
    assert len(slots) == 7 * 4 - 2  # 7 working hours of 15-minute slots, minus 09:00 and 09:15
    assert first["start"] not in starts and second["start"] in starts  # cancelled time is free again
    assert starts == sorted(starts)

    mine = invoke(
        "PatientAppointmentsFunction",
        event("patient_appointments", path={"patient_id": clinic["patient"]}, query=window),
    )["json"]["items"]
    assert [a["id"] for a in mine] == [first["id"], second["id"]]
    only_cancelled = invoke(
        "PatientAppointmentsFunction",
        event("patient_appointments", path={"patient_id": clinic["patient"]}, query={**window, "status": "cancelled"}),
    )
    assert [a["id"] for a in only_cancelled["json"]["items"]] == [second["id"]]


@pytest.mark.parametrize(
    "function, name, max_days",
    [("DoctorScheduleFunction", "doctor_schedule", 31), ("DoctorAvailabilityFunction", "doctor_availability", 14)],
)
def test_time_windows_are_checked(invoke, clinic, function, name, max_days):
    day = clinic["day"]
    path = {"doctor_id": clinic["doctor"]}
    for query in (
        {"from": at(day, "10:00"), "to": at(day, "09:00")},
        {"from": at(day, "00:00"), "to": at(day + timedelta(days=max_days + 1), "00:00")},
        {"from": at(day, "00:00")[:19], "to": at(day, "10:00")[:19]},
        {"from": at(day, "00:00")},
    ):
        problem(invoke(function, event(name, path=path, query=query)), 422, "VALIDATION_ERROR")
    problem(
        invoke(
            function, event(name, path={"doctor_id": "nope"}, query={"from": at(day, "00:00"), "to": at(day, "10:00")})
        ),
        404,
        "NOT_FOUND",
    )


@pytest.mark.clock_sensitive
def test_availability_never_offers_the_past(invoke, clinic):
    now = datetime.now(UTC)
    window = {"from": (now - timedelta(days=3)).isoformat(), "to": (now + timedelta(days=3)).isoformat()}
    slots = invoke(
        "DoctorAvailabilityFunction", event("doctor_availability", path={"doctor_id": clinic["doctor"]}, query=window)
    )["json"]["slots"]
    assert all(datetime.fromisoformat(s["start"].replace("Z", "+00:00")) >= now for s in slots)
