"""Holds: a held time blocks every other booking, hold and reschedule like a booking does, is free
again the instant it expires (to the second, with no job run first), and confirms into exactly
that appointment — or answers HOLD_EXPIRED / INVALID_TRANSITION."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from tests import days
from tests.claims import claims_of
from tests.days import at
from tests.handlers.conftest import event_for
from tests.handlers.helpers import ServiceClock, problem, snapshot
from tests.handlers.test_appointments import DOCTOR, PATIENT

STAFF = claims_of("staff", sub="staff-holds")


def patient_claims(patient_id: str) -> dict[str, str]:
    return claims_of("patient", patient_id, sub=f"p-{patient_id[:8]}")


@pytest.fixture
def clock(monkeypatch):
    return ServiceClock(monkeypatch, "clinic.services.appointments", "clinic.services.holds")


@pytest.fixture
def world(invoke):
    def post(function, resource, body):
        response = invoke(function, event_for("POST", resource, body=body, claims=STAFF))
        assert response["statusCode"] == 201, response
        return response["json"]["id"]

    return {
        "doctor": post("CreateDoctorFunction", "/doctors", DOCTOR),
        "patient": post("RegisterPatientFunction", "/patients", PATIENT),
        "other": post("RegisterPatientFunction", "/patients", {**PATIENT, "given_name": "Other"}),
        "day": days.monday(),
    }


def hold(invoke, world, start, patient=None, claims=None, **fields):
    body = {"patient_id": patient or world["patient"], "doctor_id": world["doctor"], "start": start, **fields}
    return invoke("PlaceHoldFunction", event_for("POST", "/holds", body=body, claims=claims or STAFF))


def book(invoke, world, start, patient=None):
    body = {"patient_id": patient or world["patient"], "doctor_id": world["doctor"], "start": start}
    return invoke("BookAppointmentFunction", event_for("POST", "/appointments", body=body, claims=STAFF))


def confirm(invoke, hold_id, claims=None, **body):
    return invoke(
        "ConfirmHoldFunction",
        event_for("POST", "/holds/{hold_id}/confirm", {"hold_id": hold_id}, body=body, claims=claims or STAFF),
    )


def release(invoke, hold_id, claims=None):
    return invoke(
        "ReleaseHoldFunction", event_for("DELETE", "/holds/{hold_id}", {"hold_id": hold_id}, claims=claims or STAFF)
    )


def read(invoke, hold_id, claims=None):
    return invoke("GetHoldFunction", event_for("GET", "/holds/{hold_id}", {"hold_id": hold_id}, claims=claims or STAFF))


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_a_hold_keeps_the_time_for_its_patient_until_it_expires(invoke, world):
    # Given a hold on 09:00
    placed = hold(invoke, world, at(world["day"], "09:00"))
    assert placed["statusCode"] == 201, placed
    body = placed["json"]
    assert placed["headers"]["Location"] == f"/holds/{body['id']}"
    assert body["status"] == "held" and body["appointment_id"] is None and body["duration_minutes"] == 15
    created, expires = instant(body["created_at"]), instant(body["expires_at"])
    assert expires - created == timedelta(minutes=5)  # hold_minutes' default
    # Then nobody else books, holds or is offered that time, and the patient is busy then too
    problem(book(invoke, world, at(world["day"], "09:00"), patient=world["other"]), 409, "SLOT_UNAVAILABLE")
    problem(hold(invoke, world, at(world["day"], "09:00"), patient=world["other"]), 409, "SLOT_UNAVAILABLE")
    window = {"from": at(world["day"], "08:00"), "to": at(world["day"], "10:00")}
    slots = invoke(
        "DoctorAvailabilityFunction",
        event_for("GET", "/doctors/{doctor_id}/availability", {"doctor_id": world["doctor"]}, query=window),
    )
    assert instant(at(world["day"], "09:00")) not in {instant(s["start"]) for s in slots["json"]["slots"]}
    assert read(invoke, body["id"])["json"]["status"] == "held"


@pytest.mark.clock_sensitive
def test_the_time_is_free_again_the_second_the_hold_expires(invoke, world, clock):
    body = hold(invoke, world, at(world["day"], "09:00"))["json"]
    expires = instant(body["expires_at"])
    # one second before: still held
    clock.set_to(expires - timedelta(seconds=1))
    problem(book(invoke, world, at(world["day"], "09:00"), patient=world["other"]), 409, "SLOT_UNAVAILABLE")
    assert read(invoke, body["id"])["json"]["status"] == "held"
    # at expires_at: expired, and the time books — with no job having run
    clock.set_to(expires)
    assert read(invoke, body["id"])["json"]["status"] == "expired"
    assert book(invoke, world, at(world["day"], "09:00"), patient=world["other"])["statusCode"] == 201
    # and the expired hold can no longer be confirmed
    problem(confirm(invoke, body["id"]), 409, "HOLD_EXPIRED")


def test_confirming_books_exactly_the_held_interval_once(invoke, world, aws):
    body = hold(invoke, world, at(world["day"], "10:00"), duration_minutes=30)["json"]
    confirmed = confirm(invoke, body["id"], reason="follow-up")
    assert confirmed["statusCode"] == 201, confirmed
    appointment = confirmed["json"]
    assert confirmed["headers"]["Location"] == f"/appointments/{appointment['id']}"
    assert (appointment["start"], appointment["end"], appointment["patient_id"], appointment["status"]) == (
        body["start"],
        body["end"],
        body["patient_id"],
        "booked",
    )
    after = read(invoke, body["id"])["json"]
    assert after["status"] == "confirmed" and after["appointment_id"] == appointment["id"]
    # a confirmed hold is not confirmed or released again
    before = snapshot(aws)
    problem(confirm(invoke, body["id"]), 409, "INVALID_TRANSITION")
    problem(release(invoke, body["id"]), 409, "INVALID_TRANSITION")
    assert snapshot(aws) == before
    # the appointment holds the time now (cancelling it frees it, as any booking)
    problem(book(invoke, world, at(world["day"], "10:15"), patient=world["other"]), 409, "SLOT_UNAVAILABLE")


def test_time_off_created_over_a_hold_refuses_its_confirmation(invoke, world, aws):
    # Given a hold at 14:00, and the doctor then away from 13:00 to 16:00 (this container's doctor is cached)
    body = hold(invoke, world, at(world["day"], "14:00"))["json"]
    away = {"start": at(world["day"], "13:00"), "end": at(world["day"], "16:00"), "kind": "training"}
    created = invoke(
        "CreateTimeOffFunction",
        event_for("POST", "/doctors/{doctor_id}/time-off", {"doctor_id": world["doctor"]}, body=away),
    )
    assert created["statusCode"] == 201
    # When the patient confirms, Then DOCTOR_AWAY, and nothing is booked
    before = snapshot(aws)
    problem(confirm(invoke, body["id"]), 422, "DOCTOR_AWAY")
    assert snapshot(aws) == before


def test_releasing_frees_the_time_at_once_and_is_idempotent(invoke, world):
    body = hold(invoke, world, at(world["day"], "11:00"))["json"]
    assert release(invoke, body["id"])["statusCode"] == 204
    assert read(invoke, body["id"])["json"]["status"] == "released"
    assert release(invoke, body["id"])["statusCode"] == 204
    problem(confirm(invoke, body["id"]), 409, "INVALID_TRANSITION")
    assert book(invoke, world, at(world["day"], "11:00"), patient=world["other"])["statusCode"] == 201


def test_a_hold_follows_the_booking_rules(invoke, world):
    # Given a patient holding for someone else, or for a time inside time off
    problem(
        hold(invoke, world, at(world["day"], "09:00"), patient=world["other"], claims=patient_claims(world["patient"])),
        403,
        "FORBIDDEN",
    )
    away = {"start": at(world["day"], "13:00"), "end": at(world["day"], "14:00"), "kind": "training"}
    assert (
        invoke(
            "CreateTimeOffFunction",
            event_for("POST", "/doctors/{doctor_id}/time-off", {"doctor_id": world["doctor"]}, body=away),
        )["statusCode"]
        == 201
    )
    problem(hold(invoke, world, at(world["day"], "13:30")), 422, "DOCTOR_AWAY")
    problem(hold(invoke, world, at(world["day"], "03:00")), 422, "OUTSIDE_WORKING_HOURS")
    # and a patient gives the clinic's notice
    invoke("UpdateSettingsFunction", event_for("PATCH", "/settings", body={"min_notice_minutes": 10080}))
    soon = days.workday()  # within the week's notice, at any hour it runs
    problem(hold(invoke, world, at(soon, "09:00"), claims=patient_claims(world["patient"])), 422, "TOO_SOON")


def test_a_hold_respects_the_open_appointment_limit_and_confirming_takes_the_place(invoke, world):
    invoke("UpdateSettingsFunction", event_for("PATCH", "/settings", body={"max_open_appointments_per_patient": 1}))
    held = hold(invoke, world, at(world["day"], "09:00"))["json"]
    assert confirm(invoke, held["id"])["statusCode"] == 201
    problem(hold(invoke, world, at(world["day"], "10:00")), 409, "TOO_MANY_APPOINTMENTS")


def test_the_expiry_worker_records_expired_only_when_due_and_frees_what_it_still_holds(invoke, world, clock):
    body = hold(invoke, world, at(world["day"], "14:00"))["json"]
    with pytest.raises(Exception) as refused:  # fired early: fails, so the scheduler retries later
        invoke.worker("ExpireHoldFunction", {"hold_id": body["id"]})
    assert type(refused.value).__name__ == "NotDueYet"
    assert read(invoke, body["id"])["json"]["status"] == "held"
    clock.set_to(instant(body["expires_at"]) + timedelta(seconds=1))
    taken = book(invoke, world, at(world["day"], "14:00"), patient=world["other"])  # someone took it meanwhile
    assert taken["statusCode"] == 201
    invoke.worker("ExpireHoldFunction", {"hold_id": body["id"]})
    assert read(invoke, body["id"])["json"]["status"] == "expired"
    # the cells the new booking took are still the booking's
    problem(book(invoke, world, at(world["day"], "14:00")), 409, "SLOT_UNAVAILABLE")
