"""The v1.2 clarifications of v1 and v1.1 (docs/API.md), each at the handler level, on warm containers
as in Lambda (each function keeps its own copies of the doctors and the settings it read):

- settings take effect at once: a request that starts after a PATCH /settings has answered is decided
  by the new values, whatever an earlier request left in the function's container;
- a series answers its lowest failing occurrence, whatever the reason;
- a doctor's status changes have a time (TOO_EARLY);
- a doctor reads a patient only within the access window (doctor_access_days);
- a deactivated doctor's token is refused;
- per-patient limits on holds and waitlist entries;
- a change of patient data commits with its audit record or not at all;
- what the service does by itself (waitlist offers, expiries) is on the patient's trail as system.

Days are picked at least three days ahead in the doctor's zone, and where a test needs a particular
moment it sets the services' clock, so these tests pass on any day at any hour."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import boto3
import pytest

from tests.claims import claims_of
from tests.handlers.conftest import event_for
from tests.handlers.helpers import problem, snapshot
from tests.handlers.test_appointments import DOCTOR, PATIENT

NY = ZoneInfo("America/New_York")
STAFF = claims_of("staff", sub="staff-clarifications")


def monday_ahead(weeks: int = 1) -> date:
    """A Monday at least three days ahead in the doctors' zone (never today or tomorrow, anywhere)."""
    first = datetime.now(NY).date() + timedelta(days=3)
    return first + timedelta(days=(7 - first.weekday()) % 7 + 7 * (weeks - 1))


def weekday_ahead() -> date:
    """The first working day (Monday to Friday) at least three days ahead in the doctors' zone: at most
    five days ahead, so inside the longest notice or cutoff the settings allow (7 days)."""
    day = datetime.now(NY).date() + timedelta(days=3)
    while day.weekday() > 4:
        day += timedelta(days=1)
    return day


def at(day: date, hhmm: str) -> str:
    hour, minute = map(int, hhmm.split(":"))
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=NY).isoformat()


def instant(day: date, hhmm: str) -> datetime:
    return datetime.fromisoformat(at(day, hhmm)).astimezone(UTC)


def utc(moment: str) -> datetime:
    return datetime.fromisoformat(moment.replace("Z", "+00:00"))


class Clock:
    """The services' idea of now, moved by the test (every module that reads it, and the write
    conditions that compare against it)."""

    def __init__(self, monkeypatch) -> None:
        import clinic.services.appointments as appointments
        import clinic.services.holds as holds
        import clinic.services.patients as patients
        import clinic.services.waitlist as waitlist

        self.offset = timedelta()
        for module in (appointments, holds, patients, waitlist):
            monkeypatch.setattr(module, "now_utc", lambda: datetime.now(UTC) + self.offset)

    def set_to(self, moment: datetime) -> None:
        self.offset = moment - datetime.now(UTC)


@pytest.fixture
def clock(monkeypatch) -> Clock:
    return Clock(monkeypatch)


@pytest.fixture
def world(invoke):
    def post(function, resource, body, claims=STAFF):
        response = invoke(function, event_for("POST", resource, body=body, claims=claims))
        assert response["statusCode"] == 201, response
        return response["json"]

    doctor = post("CreateDoctorFunction", "/doctors", DOCTOR)["id"]
    patient = post("RegisterPatientFunction", "/patients", PATIENT)["id"]
    other = post("RegisterPatientFunction", "/patients", {**PATIENT, "given_name": "Other"})["id"]
    return {"doctor": doctor, "patient": patient, "other": other, "day": monday_ahead(), "post": post}


def as_patient(world, patient=None):
    patient = patient or world["patient"]
    return claims_of("patient", patient, sub=f"p-{patient[:8]}")


def as_doctor(world):
    return claims_of("doctor", world["doctor"], sub="the-doctor")


def change_settings(invoke, **values) -> None:
    """PATCH /settings as staff, and nothing else: no container is told to forget its copy."""
    response = invoke("UpdateSettingsFunction", event_for("PATCH", "/settings", body=values, claims=STAFF))
    assert response["statusCode"] == 200, response


def book(invoke, world, start, patient=None, claims=None, **fields):
    body = {"patient_id": patient or world["patient"], "doctor_id": world["doctor"], "start": start, **fields}
    return invoke("BookAppointmentFunction", event_for("POST", "/appointments", body=body, claims=claims or STAFF))


def series(invoke, world, start, count, patient=None, **fields):
    body = {
        "patient_id": patient or world["patient"],
        "doctor_id": world["doctor"],
        "start": start,
        "repeat": {"every_weeks": 1, "count": count},
        **fields,
    }
    return invoke("BookSeriesFunction", event_for("POST", "/appointment-series", body=body, claims=STAFF))


def cancel(invoke, appointment_id, claims=None):
    return invoke(
        "CancelAppointmentFunction",
        event_for(
            "POST",
            "/appointments/{appointment_id}/cancel",
            {"appointment_id": appointment_id},
            body={"reason": "cannot come"},
            claims=claims or STAFF,
        ),
    )


def hold(invoke, world, start, patient=None, claims=None):
    body = {"patient_id": patient or world["patient"], "doctor_id": world["doctor"], "start": start}
    return invoke("PlaceHoldFunction", event_for("POST", "/holds", body=body, claims=claims or STAFF))


def join(invoke, world, start, end, patient=None, claims=None):
    body = {"patient_id": patient or world["patient"], "doctor_id": world["doctor"], "from": start, "to": end}
    return invoke("JoinWaitlistFunction", event_for("POST", "/waitlist", body=body, claims=claims or STAFF))


def take_time_off(invoke, world, start, end):
    response = invoke(
        "CreateTimeOffFunction",
        event_for(
            "POST",
            "/doctors/{doctor_id}/time-off",
            {"doctor_id": world["doctor"]},
            body={"start": start, "end": end, "kind": "training"},
            claims=STAFF,
        ),
    )
    assert response["statusCode"] == 201, response


def appointments_of(invoke, patient) -> list[dict]:
    response = invoke(
        "PatientAppointmentsFunction",
        event_for("GET", "/patients/{patient_id}/appointments", {"patient_id": patient}, claims=STAFF),
    )
    return response["json"]["items"]


def trail(invoke, patient) -> list[dict]:
    response = invoke(
        "PatientAccessLogFunction",
        event_for("GET", "/patients/{patient_id}/access-log", {"patient_id": patient}, query={"limit": "100"}),
    )
    assert response["statusCode"] == 200, response
    return response["json"]["items"]


# ============================================================================ settings take effect at once
def test_a_new_minimum_notice_decides_the_next_booking_of_a_warm_container(invoke, world):
    soon = weekday_ahead()
    # Given the booking function warm, holding the settings it read (no notice)
    assert book(invoke, world, at(soon, "09:00"), claims=as_patient(world))["statusCode"] == 201
    # When staff require a week's notice, and the PATCH has answered
    change_settings(invoke, min_notice_minutes=7 * 24 * 60)
    # Then the patient's next booking, three to five days ahead, is refused by the new notice
    problem(book(invoke, world, at(soon, "10:00"), claims=as_patient(world)), 422, "TOO_SOON")


def test_a_lowered_minimum_notice_is_not_refused_on_a_warm_containers_old_copy(invoke, world):
    soon = weekday_ahead()
    # Given a week's notice, which the booking function has read (and refused by)
    change_settings(invoke, min_notice_minutes=7 * 24 * 60)
    problem(book(invoke, world, at(soon, "09:00"), claims=as_patient(world)), 422, "TOO_SOON")
    # When staff drop the notice
    change_settings(invoke, min_notice_minutes=0)
    # Then the same booking is made at once
    assert book(invoke, world, at(soon, "09:00"), claims=as_patient(world))["statusCode"] == 201


def test_a_shorter_horizon_decides_the_next_booking_and_reschedule(invoke, world):
    booked = book(invoke, world, at(world["day"], "09:00"))["json"]
    change_settings(invoke, max_advance_days=2)
    refused = problem(book(invoke, world, at(world["day"], "10:00")), 422, "VALIDATION_ERROR")
    assert refused["errors"][0]["field"] == "start"
    moved = invoke(
        "UpdateAppointmentFunction",
        event_for(
            "PATCH",
            "/appointments/{appointment_id}",
            {"appointment_id": booked["id"]},
            body={"start": at(world["day"], "11:00")},
            claims=STAFF,
        ),
    )
    problem(moved, 422, "VALIDATION_ERROR")


def test_a_new_cutoff_decides_the_patients_next_cancel(invoke, world):
    soon = weekday_ahead()
    # Given the cancel function warm (a patient cancelled, no cutoff)
    first = book(invoke, world, at(soon, "09:00"))["json"]
    second = book(invoke, world, at(soon, "10:00"))["json"]
    assert cancel(invoke, first["id"], claims=as_patient(world))["statusCode"] == 200
    # When staff set a week's cutoff
    change_settings(invoke, patient_change_cutoff_minutes=7 * 24 * 60)
    # Then the patient cannot cancel the appointment three to five days ahead; staff still can
    problem(cancel(invoke, second["id"], claims=as_patient(world)), 409, "TOO_LATE_TO_CHANGE")
    assert cancel(invoke, second["id"])["statusCode"] == 200


def test_a_new_open_appointment_limit_decides_the_next_booking_and_series(invoke, world):
    # Given both booking functions warm, and the patient with three open appointments
    assert book(invoke, world, at(world["day"], "09:00"))["statusCode"] == 201
    assert series(invoke, world, at(world["day"], "13:00"), 2)["statusCode"] == 201
    # When staff set the limit to three
    change_settings(invoke, max_open_appointments_per_patient=3)
    # Then neither a booking nor a series gets a fourth
    problem(book(invoke, world, at(world["day"], "10:00")), 409, "TOO_MANY_APPOINTMENTS")
    refused = problem(series(invoke, world, at(world["day"], "14:00"), 2), 409, "TOO_MANY_APPOINTMENTS")
    assert refused["errors"][0]["field"] == "occurrences[0].start"


def test_a_hold_placed_right_after_a_new_hold_length_lasts_it(invoke, world):
    first = hold(invoke, world, at(world["day"], "09:00"))["json"]  # warm: 5 minutes
    assert utc(first["expires_at"]) - utc(first["created_at"]) == timedelta(minutes=5)
    change_settings(invoke, hold_minutes=20)
    placed = hold(invoke, world, at(world["day"], "10:00"))["json"]
    assert utc(placed["expires_at"]) - utc(placed["created_at"]) == timedelta(minutes=20)


def test_a_reminder_scheduled_after_a_new_lead_uses_it(invoke, world):
    scheduler = boto3.client("scheduler", region_name="us-east-1")

    def reminder_of(appointment) -> datetime:
        invoke.worker(
            "ScheduleTimersFunction",
            {"detail-type": "AppointmentBooked", "detail": {"appointment_id": appointment["id"]}},
        )
        schedule = scheduler.get_schedule(Name=f"reminder-{appointment['id']}", GroupName="clinic-local-timers")
        return datetime.fromisoformat(schedule["ScheduleExpression"][3:-1]).replace(tzinfo=UTC)

    first = book(invoke, world, at(world["day"], "09:00"))["json"]
    assert reminder_of(first) == utc(first["start"]) - timedelta(days=1)  # warm: a day ahead
    change_settings(invoke, reminder_lead_minutes=60)
    second = book(invoke, world, at(world["day"], "10:00"))["json"]
    assert reminder_of(second) == utc(second["start"]) - timedelta(minutes=60)


def test_an_offer_made_after_a_new_offer_length_lasts_it(invoke, world):
    def offer_for(patient, start, end) -> dict:
        entry = join(invoke, world, start, end, patient=patient)["json"]
        invoke.worker(
            "OfferWaitlistFunction", {"detail-type": "HoldReleased", "detail": {"doctor_id": world["doctor"]}}
        )
        got = invoke("GetWaitlistEntryFunction", event_for("GET", "/waitlist/{entry_id}", {"entry_id": entry["id"]}))
        return got["json"]["offer"]

    first = offer_for(world["patient"], at(world["day"], "09:00"), at(world["day"], "10:00"))  # warm: 60 minutes
    change_settings(invoke, waitlist_offer_minutes=30)
    second = offer_for(world["other"], at(world["day"], "13:00"), at(world["day"], "14:00"))
    hold_of = lambda offer: invoke(
        "GetHoldFunction", event_for("GET", "/holds/{hold_id}", {"hold_id": offer["hold_id"]})
    )["json"]
    for offer, minutes in ((first, 60), (second, 30)):
        placed = hold_of(offer)
        assert utc(placed["expires_at"]) - utc(placed["created_at"]) == timedelta(minutes=minutes)


# ============================================================================ series: the lowest failing occurrence
def test_a_series_answers_its_lowest_failing_occurrence_taken_before_one_in_time_off(invoke, world):
    # Given occurrence 1 taken (another patient booked it) and occurrence 3 inside time off
    day = world["day"]
    assert book(invoke, world, at(day + timedelta(weeks=1), "09:00"), patient=world["other"])["statusCode"] == 201
    take_time_off(invoke, world, at(day + timedelta(weeks=3), "08:00"), at(day + timedelta(weeks=3), "12:00"))
    before = appointments_of(invoke, world["patient"])
    # When the patient books four weekly occurrences at 09:00
    refused = problem(series(invoke, world, at(day, "09:00"), 4), 409, "SLOT_UNAVAILABLE")
    # Then occurrence 1 decides (v1.1 answered DOCTOR_AWAY for occurrence 3), and nothing is booked
    assert [e["field"] for e in refused["errors"]] == ["occurrences[1].start"]
    assert appointments_of(invoke, world["patient"]) == before


def test_a_series_answers_a_busy_patient_before_a_later_rule(invoke, world):
    # Given the patient busy at occurrence 2 (with another doctor) and occurrence 3 in time off
    day = world["day"]
    elsewhere = world["post"]("CreateDoctorFunction", "/doctors", {**DOCTOR, "family_name": "Else"})["id"]
    body = {"patient_id": world["patient"], "doctor_id": elsewhere, "start": at(day + timedelta(weeks=2), "09:00")}
    assert invoke("BookAppointmentFunction", event_for("POST", "/appointments", body=body))["statusCode"] == 201
    take_time_off(invoke, world, at(day + timedelta(weeks=3), "08:00"), at(day + timedelta(weeks=3), "12:00"))
    refused = problem(series(invoke, world, at(day, "09:00"), 4), 409, "PATIENT_UNAVAILABLE")
    assert [e["field"] for e in refused["errors"]] == ["occurrences[2].start"]


def test_a_series_answers_the_first_occurrence_over_the_limit_before_a_later_rule(invoke, world):
    # Given a limit of three open appointments, two of them held already, and occurrence 3 in time off
    change_settings(invoke, max_open_appointments_per_patient=3)
    day = world["day"]
    for hhmm in ("13:00", "14:00"):
        assert book(invoke, world, at(day, hhmm))["statusCode"] == 201
    take_time_off(invoke, world, at(day + timedelta(weeks=3), "08:00"), at(day + timedelta(weeks=3), "12:00"))
    refused = problem(series(invoke, world, at(day, "09:00"), 4), 409, "TOO_MANY_APPOINTMENTS")
    assert [e["field"] for e in refused["errors"]] == ["occurrences[1].start"]


def test_a_series_refused_by_its_write_answers_the_lowest_of_the_failures(invoke, world):
    # Given occurrence 2 taken by another patient and the patient busy at occurrence 1 (every rule passes)
    day = world["day"]
    assert book(invoke, world, at(day + timedelta(weeks=2), "09:00"), patient=world["other"])["statusCode"] == 201
    elsewhere = world["post"]("CreateDoctorFunction", "/doctors", {**DOCTOR, "family_name": "Else"})["id"]
    body = {"patient_id": world["patient"], "doctor_id": elsewhere, "start": at(day + timedelta(weeks=1), "09:00")}
    assert invoke("BookAppointmentFunction", event_for("POST", "/appointments", body=body))["statusCode"] == 201
    refused = problem(series(invoke, world, at(day, "09:00"), 3), 409, "PATIENT_UNAVAILABLE")
    assert [e["field"] for e in refused["errors"]] == ["occurrences[1].start"]


# ============================================================================ a doctor's status changes have a time
def mark(invoke, appointment_id, status, claims):
    return invoke(
        "UpdateAppointmentFunction",
        event_for(
            "PATCH",
            "/appointments/{appointment_id}",
            {"appointment_id": appointment_id},
            body={"status": status},
            claims=claims,
        ),
    )


def test_a_doctor_marks_arrival_only_from_the_start_of_the_local_day(invoke, world, clock):
    booked = book(invoke, world, at(world["day"], "10:00"))["json"]
    eve = world["day"] - timedelta(days=1)
    # the evening before, local time (already the next day in UTC): too early, nothing changed
    clock.set_to(instant(eve, "23:59"))
    problem(mark(invoke, booked["id"], "arrived", as_doctor(world)), 409, "TOO_EARLY")
    problem(mark(invoke, booked["id"], "noshow", as_doctor(world)), 409, "TOO_EARLY")
    assert (
        invoke(
            "GetAppointmentFunction",
            event_for("GET", "/appointments/{appointment_id}", {"appointment_id": booked["id"]}),
        )["json"]["status"]
        == "booked"
    )
    # from 00:00 of the local day on: allowed
    clock.set_to(instant(world["day"], "00:00"))
    assert mark(invoke, booked["id"], "arrived", as_doctor(world))["statusCode"] == 200


def test_a_doctor_marks_fulfilled_or_no_show_only_once_it_has_started(invoke, world, clock):
    one = book(invoke, world, at(world["day"], "10:00"))["json"]
    two = book(invoke, world, at(world["day"], "11:00"))["json"]
    clock.set_to(instant(world["day"], "09:59"))
    assert mark(invoke, one["id"], "arrived", as_doctor(world))["statusCode"] == 200
    problem(mark(invoke, one["id"], "fulfilled", as_doctor(world)), 409, "TOO_EARLY")
    problem(mark(invoke, two["id"], "noshow", as_doctor(world)), 409, "TOO_EARLY")
    clock.set_to(instant(world["day"], "11:00"))
    assert mark(invoke, one["id"], "fulfilled", as_doctor(world))["statusCode"] == 200
    assert mark(invoke, two["id"], "noshow", as_doctor(world))["statusCode"] == 200


def test_staff_mark_any_status_at_any_time(invoke, world):
    one = book(invoke, world, at(world["day"], "10:00"))["json"]
    two = book(invoke, world, at(world["day"], "11:00"))["json"]
    assert mark(invoke, one["id"], "arrived", STAFF)["statusCode"] == 200
    assert mark(invoke, one["id"], "fulfilled", STAFF)["statusCode"] == 200
    assert mark(invoke, two["id"], "noshow", STAFF)["statusCode"] == 200


# ============================================================================ a doctor's access window
def reads_patient(invoke, world) -> int:
    native = invoke(
        "GetPatientFunction",
        event_for("GET", "/patients/{patient_id}", {"patient_id": world["patient"]}, claims=as_doctor(world)),
    )["statusCode"]
    fhir = invoke(
        "FhirReadPatientFunction",
        event_for("GET", "/fhir/Patient/{patient_id}", {"patient_id": world["patient"]}, claims=as_doctor(world)),
    )["statusCode"]
    search = invoke(
        "SearchPatientsFunction",
        event_for(
            "POST", "/patients/search", body={"family_name_prefix": PATIENT["family_name"]}, claims=as_doctor(world)
        ),
    )["json"]["items"]
    found = 200 if world["patient"] in {p["id"] for p in search} else 404
    assert native == fhir == found, (native, fhir, found)
    return native


def test_a_doctors_access_lasts_while_booked_and_for_the_window_after_the_start(invoke, world, clock):
    booked = book(invoke, world, at(world["day"], "10:00"))["json"]
    assert reads_patient(invoke, world) == 200  # booked
    clock.set_to(instant(world["day"], "10:30"))
    assert mark(invoke, booked["id"], "noshow", as_doctor(world))["statusCode"] == 200
    assert reads_patient(invoke, world) == 200  # started within the last 365 days
    clock.set_to(instant(world["day"], "10:00") + timedelta(days=365, minutes=1))
    assert reads_patient(invoke, world) == 404  # the window has passed
    change_settings(invoke, doctor_access_days=400)
    assert reads_patient(invoke, world) == 200  # a longer window, at once
    change_settings(invoke, doctor_access_days=1)
    assert reads_patient(invoke, world) == 404


def test_a_doctors_access_lasts_while_an_appointment_is_still_booked_however_old(invoke, world, clock):
    book(invoke, world, at(world["day"], "10:00"))
    clock.set_to(instant(world["day"], "10:00") + timedelta(days=800))  # nobody closed it
    assert reads_patient(invoke, world) == 200


def _link(world) -> dict:
    from clinic.config import settings

    locks = boto3.resource("dynamodb", region_name="us-east-1").Table(settings().slot_locks_table)
    key = {"owner": f"doctor#{world['doctor']}", "hour": f"#patient#{world['patient']}"}
    return {"table": locks, "key": key, "item": locks.get_item(Key=key)["Item"]}


def link_counts(world) -> dict[str, int]:
    """The doctor–patient link's counts: n, live and done."""
    return {k: int(v) for k, v in _link(world)["item"].items() if k in ("n", "live", "done")}


def test_a_live_appointment_answers_from_the_link_without_reading_the_patients_appointments(invoke, world, monkeypatch):
    """Given a booked appointment, the pair's link counts it live (n 1, live 1, done 0), and a doctor's
    read, FHIR read and search of the patient read no appointments: the link's count answers."""
    from botocore.client import BaseClient

    book(invoke, world, at(world["day"], "10:00"))
    assert link_counts(world) == {"n": 1, "live": 1, "done": 0}
    queried, original = [], BaseClient._make_api_call

    def record(client, operation, params):
        if operation == "Query" and params.get("IndexName") == "patient_appointments":
            queried.append(params)
        return original(client, operation, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", record)
    assert reads_patient(invoke, world) == 200 and queried == []


def test_a_link_that_counted_before_it_kept_live_and_done_is_decided_by_the_appointments(invoke, world, clock):
    """Given a link written before it kept live and done (n only) for an appointment still booked, a
    doctor still reads the patient 800 days on (the patient's appointments are read, as before); once
    that appointment is fulfilled, the link still cannot say (n 1, live -1, done 1) and the appointments
    decide: none booked or arrived, none in the window, so no access."""
    booked = book(invoke, world, at(world["day"], "10:00"))["json"]
    link = _link(world)
    link["table"].update_item(Key=link["key"], UpdateExpression="REMOVE live, done")  # as written before
    clock.set_to(instant(world["day"], "10:00") + timedelta(days=800))
    assert reads_patient(invoke, world) == 200
    assert mark(invoke, booked["id"], "arrived", STAFF)["statusCode"] == 200
    assert reads_patient(invoke, world) == 200  # arrived: still live
    assert mark(invoke, booked["id"], "fulfilled", STAFF)["statusCode"] == 200
    assert link_counts(world) == {"n": 1, "live": -1, "done": 1}
    assert reads_patient(invoke, world) == 404


def test_a_cancelled_appointment_leaves_the_link_counting_nothing(invoke, world):
    booked = book(invoke, world, at(world["day"], "10:00"))["json"]
    response = cancel(invoke, booked["id"])
    assert response["statusCode"] == 200, response
    assert link_counts(world) == {"n": 0, "live": 0, "done": 0}
    assert reads_patient(invoke, world) == 404


# ============================================================================ a deactivated doctor's token
def test_a_deactivated_doctors_token_is_refused_on_every_route_it_used(invoke, world, clock):
    booked = book(invoke, world, at(world["day"], "10:00"))["json"]
    doctor = as_doctor(world)
    day_window = {"from": at(world["day"], "00:00"), "to": at(world["day"], "23:00")}
    requests = [
        (
            "DoctorScheduleFunction",
            event_for(
                "GET", "/doctors/{doctor_id}/schedule", {"doctor_id": world["doctor"]}, query=day_window, claims=doctor
            ),
        ),
        (
            "GetAppointmentFunction",
            event_for("GET", "/appointments/{appointment_id}", {"appointment_id": booked["id"]}, claims=doctor),
        ),
        ("ListDoctorsFunction", event_for("GET", "/doctors", claims=doctor)),
        (
            "DoctorAvailabilityFunction",
            event_for(
                "GET",
                "/doctors/{doctor_id}/availability",
                {"doctor_id": world["doctor"]},
                query=day_window,
                claims=doctor,
            ),
        ),
        (
            "GetPatientFunction",
            event_for("GET", "/patients/{patient_id}", {"patient_id": world["patient"]}, claims=doctor),
        ),
        ("GetSettingsFunction", event_for("GET", "/settings", claims=doctor)),
    ]
    for function, request in requests:
        assert invoke(function, request)["statusCode"] == 200, function
    deactivated = invoke(
        "UpdateDoctorFunction",
        event_for(
            "PATCH", "/doctors/{doctor_id}", {"doctor_id": world["doctor"]}, body={"active": False}, claims=STAFF
        ),
    )
    assert deactivated["statusCode"] == 200
    for function, request in requests:
        problem(invoke(function, request), 403, "FORBIDDEN")
    clock.set_to(instant(world["day"], "10:30"))
    before = snapshot(boto3.client("dynamodb", region_name="us-east-1"))
    problem(mark(invoke, booked["id"], "arrived", doctor), 403, "FORBIDDEN")
    assert snapshot(boto3.client("dynamodb", region_name="us-east-1")) == before


# ============================================================================ limits on holds and the waitlist
def test_a_patient_holds_at_most_the_limit_and_a_hold_that_ends_gives_its_place_back(invoke, world, clock):
    me = as_patient(world)
    day = world["day"]
    first = hold(invoke, world, at(day, "09:00"), claims=me)["json"]
    second = hold(invoke, world, at(day, "10:00"), claims=me)["json"]
    problem(hold(invoke, world, at(day, "11:00"), claims=me), 409, "TOO_MANY_HOLDS")  # the default: 2
    problem(hold(invoke, world, at(day, "11:00")), 409, "TOO_MANY_HOLDS")  # whoever places it
    # a released hold and a confirmed one each give their place back
    released = invoke("ReleaseHoldFunction", event_for("DELETE", "/holds/{hold_id}", {"hold_id": first["id"]}))
    assert released["statusCode"] == 204
    third = hold(invoke, world, at(day, "11:00"), claims=me)["json"]
    confirmed = invoke(
        "ConfirmHoldFunction", event_for("POST", "/holds/{hold_id}/confirm", {"hold_id": second["id"]}, body={})
    )
    assert confirmed["statusCode"] == 201
    assert hold(invoke, world, at(day, "13:00"), claims=me)["statusCode"] == 201
    problem(hold(invoke, world, at(day, "14:00"), claims=me), 409, "TOO_MANY_HOLDS")
    # and one that expires gives it back the instant it does, with no job run
    clock.set_to(utc(third["expires_at"]))
    assert hold(invoke, world, at(day, "14:00"), claims=me)["statusCode"] == 201
    # a new limit decides at once
    change_settings(invoke, max_holds_per_patient=3)
    assert hold(invoke, world, at(day, "15:00"), claims=me)["statusCode"] == 201


def test_a_patient_waits_in_at_most_the_limit_of_entries_and_offers_take_no_hold_place(invoke, world, clock):
    change_settings(invoke, max_waitlist_entries_per_patient=2, max_holds_per_patient=1)
    me, day = as_patient(world), world["day"]
    first = join(invoke, world, at(day, "09:00"), at(day, "09:30"), claims=me)["json"]
    second = join(invoke, world, at(day + timedelta(days=1), "09:00"), at(day + timedelta(days=1), "10:00"), claims=me)
    assert second["statusCode"] == 201
    problem(join(invoke, world, at(day, "13:00"), at(day, "14:00"), claims=me), 409, "TOO_MANY_WAITLIST_ENTRIES")
    # an offer (the first entry's time is free) is a hold the service places: the hold limit does not bind it
    assert hold(invoke, world, at(day, "15:00"), claims=me)["statusCode"] == 201  # the one live hold allowed
    invoke.worker("OfferWaitlistFunction", {"detail-type": "HoldReleased", "detail": {"doctor_id": world["doctor"]}})
    got = invoke("GetWaitlistEntryFunction", event_for("GET", "/waitlist/{entry_id}", {"entry_id": first["id"]}))
    assert got["json"]["status"] == "offered", got
    # leaving gives the place back
    left = invoke("LeaveWaitlistFunction", event_for("DELETE", "/waitlist/{entry_id}", {"entry_id": first["id"]}))
    assert left["statusCode"] == 204
    third = join(invoke, world, at(day, "13:00"), at(day, "14:00"), claims=me)
    assert third["statusCode"] == 201
    # an entry whose window has passed stops counting the instant it does
    clock.set_to(instant(day, "14:00"))
    assert join(invoke, world, at(day, "16:00"), at(day, "16:30"), claims=me)["statusCode"] == 201


# ============================================================================ audit with the change, or no change
class AuditWriteFails:
    """Every write of an audit record fails, as a throttled or unavailable table answers: alone, or
    inside a transaction (which then changes nothing at all)."""

    def __init__(self, monkeypatch) -> None:
        from botocore.client import BaseClient
        from botocore.exceptions import ClientError

        from clinic.config import settings

        original = BaseClient._make_api_call

        def failing(client, operation, params):
            audit_table = settings().audit_table
            names = [params.get("TableName")] + [
                body.get("TableName") for item in params.get("TransactItems", []) for body in item.values()
            ]
            if audit_table in names and operation in ("PutItem", "TransactWriteItems"):
                error = {"Error": {"Code": "InternalServerError", "Message": "injected"}}
                raise ClientError(error, operation)
            return original(client, operation, params)

        monkeypatch.setattr(BaseClient, "_make_api_call", failing)


def test_a_patients_change_commits_with_its_audit_record_or_not_at_all(invoke, world, aws, monkeypatch):
    before = snapshot(aws)
    AuditWriteFails(monkeypatch)
    changed = invoke(
        "UpdatePatientFunction",
        event_for("PATCH", "/patients/{patient_id}", {"patient_id": world["patient"]}, body={"given_name": "Renamed"}),
    )
    problem(changed, 503, "SERVICE_UNAVAILABLE")
    registered = invoke("RegisterPatientFunction", event_for("POST", "/patients", body=PATIENT))
    problem(registered, 503, "SERVICE_UNAVAILABLE")
    joined = join(invoke, world, at(world["day"], "09:00"), at(world["day"], "10:00"))
    problem(joined, 503, "SERVICE_UNAVAILABLE")
    assert snapshot(aws) == before  # nothing changed: no new name, no new patient, no entry


# ============================================================================ what the service does, on the trail
def test_offers_and_expiries_the_service_makes_are_on_the_patients_trail_as_system(invoke, world, clock):
    entry = join(invoke, world, at(world["day"], "09:00"), at(world["day"], "10:00"))["json"]
    invoke.worker("OfferWaitlistFunction", {"detail-type": "HoldReleased", "detail": {"doctor_id": world["doctor"]}})
    offer = invoke("GetWaitlistEntryFunction", event_for("GET", "/waitlist/{entry_id}", {"entry_id": entry["id"]}))
    hold_id = offer["json"]["offer"]["hold_id"]
    placed = hold(invoke, world, at(world["day"], "11:00"))["json"]
    clock.set_to(utc(placed["expires_at"]))
    invoke.worker("ExpireHoldFunction", {"hold_id": placed["id"]})
    system = [
        (r["action"], r["status"], r["outcome"]) for r in trail(invoke, world["patient"]) if r["actor_role"] == "system"
    ]
    assert ("waitlist.offer", 201, "allowed") in system
    assert ("hold.expire", 200, "allowed") in system
    assert hold_id
