"""A clinic's calendar through its functions: settings, time off, appointment types with buffers,
the booking policy (notice, horizon, patient cutoff, open-appointment limit) and weekly series —
with every new error code reached: DOCTOR_AWAY, TOO_SOON, TOO_LATE_TO_CHANGE, TOO_MANY_APPOINTMENTS."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests import days
from tests.claims import claims_of
from tests.days import NY, at
from tests.handlers.conftest import event_for
from tests.handlers.helpers import problem, snapshot
from tests.handlers.test_appointments import DOCTOR, PATIENT

STAFF = claims_of("staff", sub="staff-calendar")
TYPES = [
    {
        "code": "new-patient",
        "name": "New patient",
        "duration_minutes": 30,
        "buffer_before_minutes": 0,
        "buffer_after_minutes": 10,
    },
    {
        "code": "check-up",
        "name": "Check-up",
        "duration_minutes": 15,
        "buffer_before_minutes": 5,
        "buffer_after_minutes": 0,
    },
]


def as_patient(patient_id):
    return claims_of("patient", patient_id, sub=f"p-{patient_id[:6]}")


@pytest.fixture
def clinic(invoke):
    def post(function, resource, body, path=None):
        response = invoke(function, event_for("POST", resource, path, body=body, claims=STAFF))
        assert response["statusCode"] == 201, response
        return response["json"]

    doctor = post(
        "CreateDoctorFunction",
        "/doctors",
        {
            **DOCTOR,
            "slot_minutes": 5,
            "appointment_types": TYPES,
            "working_hours": {d: [{"start": "09:00", "end": "17:00"}] for d in ("mon", "tue", "wed", "thu", "fri")},
        },
    )
    return {
        "doctor": doctor["id"],
        "patient": post("RegisterPatientFunction", "/patients", PATIENT)["id"],
        "other": post("RegisterPatientFunction", "/patients", {**PATIENT, "given_name": "O"})["id"],
        "day": days.monday(),
        "post": post,
    }


def book(invoke, clinic, start, claims=None, patient=None, **fields):
    body = {"patient_id": patient or clinic["patient"], "doctor_id": clinic["doctor"], "start": start, **fields}
    return invoke("BookAppointmentFunction", event_for("POST", "/appointments", body=body, claims=claims or STAFF))


def settings(invoke, **values):
    response = invoke("UpdateSettingsFunction", event_for("PATCH", "/settings", body=values, claims=STAFF))
    return response


def slots(invoke, clinic, day, **query):
    window = {"from": at(day, "08:00"), "to": at(day, "18:00"), **query}
    response = invoke(
        "DoctorAvailabilityFunction",
        event_for("GET", "/doctors/{doctor_id}/availability", {"doctor_id": clinic["doctor"]}, query=window),
    )
    assert response["statusCode"] == 200, response
    return [(s["start"], s["end"]) for s in response["json"]["slots"]]


def utc(day, hhmm):
    return datetime.fromisoformat(at(day, hhmm)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# ---------------------------------------------------------------------- settings
def test_settings_have_the_contracts_defaults_and_staff_change_them(invoke, clinic):
    got = invoke("GetSettingsFunction", event_for("GET", "/settings", claims=as_patient(clinic["patient"])))
    assert got["statusCode"] == 200
    assert {k: v for k, v in got["json"].items() if k != "updated_at"} == {
        "min_notice_minutes": 0,
        "max_advance_days": 365,
        "patient_change_cutoff_minutes": 0,
        "max_open_appointments_per_patient": 20,
        "hold_minutes": 5,
        "waitlist_offer_minutes": 60,
        "reminder_lead_minutes": 1440,
        "doctor_access_days": 365,
        "max_holds_per_patient": 2,
        "max_waitlist_entries_per_patient": 5,
    }
    changed = settings(invoke, hold_minutes=10)
    assert changed["statusCode"] == 200 and changed["json"]["hold_minutes"] == 10 and changed["json"]["updated_at"]
    assert invoke("GetSettingsFunction", event_for("GET", "/settings"))["json"]["hold_minutes"] == 10


@pytest.mark.parametrize(
    "body",
    [
        {"hold_minutes": 0},
        {"hold_minutes": 61},
        {"max_advance_days": 731},
        {"waitlist_offer_minutes": 4},
        {"unknown": 1},
        {},
        {"min_notice_minutes": None},
    ],
)
def test_settings_out_of_range_are_refused_and_change_nothing(invoke, clinic, aws, body):
    before = snapshot(aws)
    problem(settings(invoke, **body), 422, "VALIDATION_ERROR")
    assert snapshot(aws) == before


# ---------------------------------------------------------------------- time off
def test_time_off_is_never_offered_refuses_bookings_and_names_the_appointments_it_overlaps(invoke, clinic):
    day = clinic["day"]
    inside = book(invoke, clinic, at(day, "10:00"))["json"]
    outside = book(invoke, clinic, at(day, "14:00"), patient=clinic["other"])["json"]
    away = {"start": at(day, "09:30"), "end": at(day, "12:00"), "kind": "training"}
    made = invoke(
        "CreateTimeOffFunction",
        event_for("POST", "/doctors/{doctor_id}/time-off", {"doctor_id": clinic["doctor"]}, body=away),
    )
    assert made["statusCode"] == 201, made
    assert made["headers"]["Location"] == f"/doctors/{clinic['doctor']}/time-off/{made['json']['id']}"
    assert [a["id"] for a in made["json"]["affected_appointments"]] == [inside["id"]]  # not cancelled, named
    assert made["json"]["affected_appointments"][0]["patient_id"] == clinic["patient"]
    assert outside["id"] not in str(made["json"])
    offered = slots(invoke, clinic, day)
    assert all(not (utc(day, "09:30") <= start < utc(day, "12:00")) for start, _ in offered)
    problem(book(invoke, clinic, at(day, "11:00"), patient=clinic["other"]), 422, "DOCTOR_AWAY")
    problem(
        invoke(
            "UpdateAppointmentFunction",
            event_for(
                "PATCH",
                "/appointments/{appointment_id}",
                {"appointment_id": outside["id"]},
                body={"start": at(day, "11:00")},
            ),
        ),
        422,
        "DOCTOR_AWAY",
    )
    listed = invoke(
        "ListTimeOffFunction",
        event_for(
            "GET",
            "/doctors/{doctor_id}/time-off",
            {"doctor_id": clinic["doctor"]},
            query={"from": at(day, "00:00"), "to": at(day, "23:00")},
        ),
    )
    assert [t["id"] for t in listed["json"]["items"]] == [made["json"]["id"]]
    # deleting it makes the time bookable again at once
    deleted = invoke(
        "DeleteTimeOffFunction",
        event_for(
            "DELETE",
            "/doctors/{doctor_id}/time-off/{time_off_id}",
            {"doctor_id": clinic["doctor"], "time_off_id": made["json"]["id"]},
        ),
    )
    assert deleted["statusCode"] == 204 and deleted["body"] == ""
    assert book(invoke, clinic, at(day, "11:00"), patient=clinic["other"])["statusCode"] == 201


@pytest.mark.parametrize(
    "away",
    [
        {"start": "2030-01-02T00:00:00Z", "end": "2030-01-01T00:00:00Z", "kind": "sick"},  # ends before it starts
        {"start": "2030-01-01T00:00:00Z", "end": "2031-01-03T00:00:00Z", "kind": "sick"},  # more than 366 days
        {"start": "2020-01-01T00:00:00Z", "end": "2020-01-02T00:00:00Z", "kind": "sick"},  # over already
        {"start": "2030-01-01T00:00:00Z", "end": "2030-01-02T00:00:00Z", "kind": "holiday"},  # not a kind
        {"start": "2030-01-01T00:00:00", "end": "2030-01-02T00:00:00Z", "kind": "sick"},  # naive
    ],
)
def test_invalid_time_off_is_refused(invoke, clinic, away):
    problem(
        invoke(
            "CreateTimeOffFunction",
            event_for("POST", "/doctors/{doctor_id}/time-off", {"doctor_id": clinic["doctor"]}, body=away),
        ),
        422,
        "VALIDATION_ERROR",
    )


def test_a_year_long_time_off_is_one_write_not_a_transaction_per_hour(invoke, clinic):
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=1)
    away = {"start": start.isoformat(), "end": (start + timedelta(days=366)).isoformat(), "kind": "other"}
    made = invoke(
        "CreateTimeOffFunction",
        event_for("POST", "/doctors/{doctor_id}/time-off", {"doctor_id": clinic["doctor"]}, body=away),
    )
    assert made["statusCode"] == 201, made
    problem(book(invoke, clinic, at(clinic["day"] + timedelta(weeks=8), "10:00")), 422, "DOCTOR_AWAY")


# ---------------------------------------------------------------------- types and buffers
def test_booking_by_type_takes_its_duration_and_occupies_its_buffers_for_the_doctor_only(invoke, clinic):
    day = clinic["day"]
    typed = book(invoke, clinic, at(day, "10:00"), appointment_type="new-patient")
    assert typed["statusCode"] == 201, typed
    assert typed["json"]["duration_minutes"] == 30 and typed["json"]["appointment_type"] == "new-patient"
    # the doctor is busy until 10:40 (10 minutes after); the patient only until 10:30
    problem(book(invoke, clinic, at(day, "10:30"), patient=clinic["other"]), 409, "SLOT_UNAVAILABLE")
    assert book(invoke, clinic, at(day, "10:40"), patient=clinic["other"])["statusCode"] == 201
    # a check-up needs 5 minutes before it: 10:45 would touch 10:40-10:45 (taken), 10:50 is free... but
    # 10:40-10:45 belongs to the other booking (10:40-10:45), so check-ups start from 10:50
    problem(book(invoke, clinic, at(day, "10:45"), appointment_type="check-up"), 409, "SLOT_UNAVAILABLE")
    assert book(invoke, clinic, at(day, "10:50"), appointment_type="check-up")["statusCode"] == 201


def test_availability_by_type_answers_starts_of_its_duration_whose_buffers_are_free(invoke, clinic):
    day = clinic["day"]
    book(invoke, clinic, at(day, "09:40"))  # 09:40-09:45 (a 5-minute slot)
    found = slots(invoke, clinic, day, appointment_type="new-patient")
    starts = {start for start, _ in found}
    assert all(
        datetime.fromisoformat(e.replace("Z", "+00:00")) - datetime.fromisoformat(s.replace("Z", "+00:00"))
        == timedelta(minutes=30)
        for s, e in found
    )
    assert utc(day, "09:00") in starts  # 09:00-09:30 + 10 after = 09:40: free
    assert utc(day, "09:05") not in starts  # 09:05-09:35 + 10 after runs into 09:40
    assert utc(day, "16:30") in starts and utc(day, "16:35") not in starts  # must end by 17:00 (buffers need not)


def test_type_rules(invoke, clinic):
    day = clinic["day"]
    problem(book(invoke, clinic, at(day, "10:00"), appointment_type="massage"), 422, "VALIDATION_ERROR")
    problem(
        book(invoke, clinic, at(day, "10:00"), appointment_type="check-up", duration_minutes=15),
        422,
        "VALIDATION_ERROR",
    )
    typed = book(invoke, clinic, at(day, "11:00"), appointment_type="new-patient")["json"]
    path = {"appointment_id": typed["id"]}
    problem(
        invoke(
            "UpdateAppointmentFunction",
            event_for("PATCH", "/appointments/{appointment_id}", path, body={"duration_minutes": 60}),
        ),
        422,
        "VALIDATION_ERROR",
    )
    moved = invoke(
        "UpdateAppointmentFunction",
        event_for("PATCH", "/appointments/{appointment_id}", path, body={"start": at(day, "13:00")}),
    )
    assert moved["json"]["duration_minutes"] == 30 and moved["json"]["appointment_type"] == "new-patient"


@pytest.mark.parametrize(
    "types",
    [
        [{"code": "Bad Code", "name": "x", "duration_minutes": 15}],
        [{"code": "a", "name": "x", "duration_minutes": 7}],  # off the 5-minute grid
        [{"code": "a", "name": "x", "duration_minutes": 15, "buffer_after_minutes": 3}],  # buffers by 5
        [{"code": "a", "name": "x", "duration_minutes": 15, "buffer_after_minutes": 125}],
        [{"code": "a", "name": "x", "duration_minutes": 15}, {"code": "a", "name": "y", "duration_minutes": 30}],
        [{"code": f"t{i}", "name": "x", "duration_minutes": 15} for i in range(21)],
    ],
)
def test_invalid_appointment_types_are_refused(invoke, clinic, types):
    problem(
        invoke(
            "UpdateDoctorFunction",
            event_for(
                "PATCH", "/doctors/{doctor_id}", {"doctor_id": clinic["doctor"]}, body={"appointment_types": types}
            ),
        ),
        422,
        "VALIDATION_ERROR",
    )


# ---------------------------------------------------------------------- booking policy
@pytest.mark.clock_sensitive
def test_a_patient_gives_the_minimum_notice_and_staff_need_not(invoke, clinic):
    settings(invoke, min_notice_minutes=10080)  # a week
    soon = days.workday()  # within the week's notice, at any hour it runs
    problem(book(invoke, clinic, at(soon, "10:00"), claims=as_patient(clinic["patient"])), 422, "TOO_SOON")
    assert book(invoke, clinic, at(soon, "10:00"))["statusCode"] == 201


def test_nobody_books_beyond_the_maximum_advance(invoke, clinic):
    settings(invoke, max_advance_days=30)
    far = clinic["day"] + timedelta(weeks=6)
    body = problem(book(invoke, clinic, at(far, "10:00")), 422, "VALIDATION_ERROR")
    assert body["errors"][0]["field"] == "start"


def test_a_patient_cannot_cancel_inside_the_cutoff_and_staff_can(invoke, clinic):
    settings(invoke, patient_change_cutoff_minutes=10080)  # a week
    booked = book(invoke, clinic, at(days.workday(), "10:00"))["json"]  # inside it, at any hour it runs
    path = {"appointment_id": booked["id"]}
    late = invoke(
        "CancelAppointmentFunction",
        event_for(
            "POST",
            "/appointments/{appointment_id}/cancel",
            path,
            body={"reason": "r"},
            claims=as_patient(clinic["patient"]),
        ),
    )
    problem(late, 409, "TOO_LATE_TO_CHANGE")
    staff = invoke(
        "CancelAppointmentFunction",
        event_for("POST", "/appointments/{appointment_id}/cancel", path, body={"reason": "r"}),
    )
    assert staff["statusCode"] == 200


def test_the_open_appointment_limit_counts_booked_and_gives_places_back(invoke, clinic):
    settings(invoke, max_open_appointments_per_patient=2)
    day = clinic["day"]
    first, second = (book(invoke, clinic, at(day, hhmm))["json"] for hhmm in ("09:00", "10:00"))
    problem(book(invoke, clinic, at(day, "11:00")), 409, "TOO_MANY_APPOINTMENTS")
    # the contract counts booked appointments: a no-show and an arrival each give the place back
    update = lambda a, status: invoke(
        "UpdateAppointmentFunction",
        event_for("PATCH", "/appointments/{appointment_id}", {"appointment_id": a["id"]}, body={"status": status}),
    )
    assert update(first, "noshow")["statusCode"] == 200
    third = book(invoke, clinic, at(day, "11:00"))["json"]
    problem(book(invoke, clinic, at(day, "12:00")), 409, "TOO_MANY_APPOINTMENTS")
    assert update(second, "arrived")["statusCode"] == 200
    assert book(invoke, clinic, at(day, "12:00"))["statusCode"] == 201
    # fulfilling the arrived one gives nothing back twice: still two booked, still full
    assert update(second, "fulfilled")["statusCode"] == 200
    problem(book(invoke, clinic, at(day, "13:00")), 409, "TOO_MANY_APPOINTMENTS")
    assert third["status"] == "booked"


# ---------------------------------------------------------------------- series
def series(invoke, clinic, start, count=4, every=1, claims=None, **fields):
    body = {
        "patient_id": clinic["patient"],
        "doctor_id": clinic["doctor"],
        "start": start,
        "repeat": {"every_weeks": every, "count": count},
        **fields,
    }
    return invoke("BookSeriesFunction", event_for("POST", "/appointment-series", body=body, claims=claims or STAFF))


def test_a_series_books_every_occurrence_at_the_same_local_time(invoke, clinic):
    made = series(invoke, clinic, at(clinic["day"], "09:00"), count=3, every=2, appointment_type="check-up")
    assert made["statusCode"] == 201, made
    body = made["json"]
    assert made["headers"]["Location"] == f"/appointment-series/{body['id']}"
    assert [
        datetime.fromisoformat(a["start"].replace("Z", "+00:00")).astimezone(NY).strftime("%a %H:%M")
        for a in body["appointments"]
    ] == ["Mon 09:00"] * 3
    assert {a["series_id"] for a in body["appointments"]} == {body["id"]}
    got = invoke("GetSeriesFunction", event_for("GET", "/appointment-series/{series_id}", {"series_id": body["id"]}))
    assert [a["id"] for a in got["json"]["appointments"]] == [a["id"] for a in body["appointments"]]


def test_a_series_is_all_or_nothing_and_names_the_first_failing_occurrence(invoke, clinic, aws):
    taken = at(clinic["day"] + timedelta(weeks=2), "09:00")
    assert book(invoke, clinic, taken, patient=clinic["other"])["statusCode"] == 201
    before = snapshot(aws)
    body = problem(series(invoke, clinic, at(clinic["day"], "09:00"), count=4), 409, "SLOT_UNAVAILABLE")
    assert body["errors"][0]["field"] == "occurrences[2].start"
    assert snapshot(aws) == before
    settings(invoke, max_open_appointments_per_patient=3)
    body = problem(series(invoke, clinic, at(clinic["day"], "13:00"), count=5), 409, "TOO_MANY_APPOINTMENTS")
    assert body["errors"][0]["field"] == "occurrences[3].start"  # 0..2 fit under 3
    assert book(invoke, clinic, at(clinic["day"], "16:00"))["statusCode"] == 201
    body = problem(series(invoke, clinic, at(clinic["day"], "13:00"), count=3), 409, "TOO_MANY_APPOINTMENTS")
    assert body["errors"][0]["field"] == "occurrences[2].start"  # one place is taken now
    body = problem(series(invoke, clinic, at(clinic["day"], "08:00"), count=2), 422, "OUTSIDE_WORKING_HOURS")
    assert body["errors"][0]["field"] == "occurrences[0].start"


def test_cancelling_a_series_cancels_the_rest_at_once(invoke, clinic):
    made = series(invoke, clinic, at(clinic["day"], "15:00"), count=3)["json"]
    first = made["appointments"][0]
    invoke(
        "CancelAppointmentFunction",
        event_for(
            "POST", "/appointments/{appointment_id}/cancel", {"appointment_id": first["id"]}, body={"reason": "r"}
        ),
    )
    cancelled = invoke(
        "CancelSeriesFunction",
        event_for(
            "POST", "/appointment-series/{series_id}/cancel", {"series_id": made["id"]}, body={"reason": "moving"}
        ),
    )
    assert cancelled["statusCode"] == 200, cancelled
    assert [a["status"] for a in cancelled["json"]["appointments"]] == ["cancelled"] * 3
    assert {a["cancellation_reason"] for a in cancelled["json"]["appointments"][1:]} == {"moving"}
    # the time is free again
    assert (
        book(invoke, clinic, at(clinic["day"] + timedelta(weeks=1), "15:00"), patient=clinic["other"])["statusCode"]
        == 201
    )
