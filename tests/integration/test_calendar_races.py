"""The clinic calendar under concurrency, over real HTTP (local gateway → function workers → DynamoDB
Local), each race repeated over several rounds with zero violations allowed:

- time off created while 50 bookings race into the same hours: every booked appointment inside it is
  in its ``affected_appointments``;
- typed appointments with buffers, 50 racing: no two occupied intervals (buffers included) overlap;
- 30 bookings of one patient racing against an open-appointment limit of 5: exactly 5 booked;
- a weekly series racing single bookings for one of its occurrences: all of the series or none.
"""

from __future__ import annotations

import itertools
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

import pytest

from tests.integration.test_booking_concurrency import Api, day_after, utc_iso

ROUNDS = 3


def fire(calls, workers=50):
    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(lambda call: call(), calls))


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.fixture(scope="module")
def api(stack):
    return Api(stack)


@pytest.fixture(scope="module")
def patients(api):
    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(api.patient, range(60)))


def test_time_off_racing_fifty_bookings_names_every_appointment_inside_it(api, patients):
    for round_ in range(ROUNDS):
        doctor = api.doctor(family_name=f"Away{round_}")
        day = day_after(10 + round_)
        away = {"start": utc_iso(day + timedelta(hours=9)), "end": utc_iso(day + timedelta(hours=12)), "kind": "sick"}
        # 50 bookings into 08:00-13:00 (some inside the time off, some around it) race its creation
        bookings = [
            lambda p=p, i=i: api.book(doctor, p, day + timedelta(hours=8, minutes=15 * (i % 20)))
            for i, p in enumerate(patients[:50])
        ]
        created = []
        calls = [*bookings[:25], lambda: created.append(api.post(f"/doctors/{doctor}/time-off", away)), *bookings[25:]]
        answers = [r for r in fire(calls) if r is not None]
        assert all(r.status_code in (201, 409, 422) for r in answers), [r.text for r in answers if r.status_code >= 500]
        (made,) = created
        assert made.status_code == 201, made.text
        affected = {a["id"] for a in made.json()["affected_appointments"]}
        inside = [
            a
            for a in api.schedule(doctor, day, day + timedelta(days=1))
            if instant(a["start"]) < instant(away["end"]) and instant(away["start"]) < instant(a["end"])
        ]
        assert {a["id"] for a in inside} <= affected, "an appointment inside the time off is not named"
        assert {a["id"] for a in inside} == affected
        refused = [r.json()["code"] for r in answers if r.status_code == 422]
        assert set(refused) <= {"DOCTOR_AWAY"}


def test_buffers_hold_under_fifty_racing_typed_bookings(api, patients):
    kind = {
        "code": "new-patient",
        "name": "New patient",
        "duration_minutes": 30,
        "buffer_before_minutes": 5,
        "buffer_after_minutes": 10,
    }
    for round_ in range(ROUNDS):
        doctor = api.doctor(family_name=f"Buffers{round_}", slot_minutes=5, appointment_types=[kind])
        base = day_after(14 + round_) + timedelta(hours=9)
        calls = [
            lambda p=p, i=i: api.post(
                "/appointments",
                {
                    "doctor_id": doctor,
                    "patient_id": p,
                    "appointment_type": "new-patient",
                    "start": utc_iso(base + timedelta(minutes=5 * (i % 30))),
                },
            )
            for i, p in enumerate(patients[:50])
        ]
        answers = fire(calls)
        assert all(r.status_code in (201, 409) for r in answers), [r.text for r in answers if r.status_code >= 500]
        booked = sorted(
            api.schedule(doctor, base - timedelta(hours=1), base + timedelta(hours=4)), key=lambda a: a["start"]
        )
        assert len(booked) == sum(r.status_code == 201 for r in answers) >= 2
        occupied = [
            (instant(a["start"]) - timedelta(minutes=5), instant(a["end"]) + timedelta(minutes=10)) for a in booked
        ]
        for (_, end), (start, _) in itertools.pairwise(occupied):
            assert end <= start, "two occupied intervals (buffers included) overlap"


def test_thirty_racing_bookings_of_one_patient_stop_at_the_open_appointment_limit(api):
    assert api.patch("/settings", {"max_open_appointments_per_patient": 5}).status_code == 200  # decides at once
    try:
        for round_ in range(ROUNDS):
            doctor, patient = api.doctor(family_name=f"Limit{round_}"), api.patient(1000 + round_)
            base = day_after(20 + round_) + timedelta(hours=8)
            answers = fire(
                [lambda i=i: api.book(doctor, patient, base + timedelta(minutes=15 * i)) for i in range(30)], workers=30
            )
            assert sorted(r.status_code for r in answers) == [201] * 5 + [409] * 25, [
                r.text for r in answers if r.status_code not in (201, 409)
            ]
            assert {r.json()["code"] for r in answers if r.status_code == 409} == {"TOO_MANY_APPOINTMENTS"}
            # cancelling one gives the place back
            first = next(r.json()["id"] for r in answers if r.status_code == 201)
            assert api.post(f"/appointments/{first}/cancel", {"reason": "moved away"}).status_code == 200
            assert api.book(doctor, patient, base + timedelta(hours=12)).status_code == 201
    finally:
        assert api.patch("/settings", {"max_open_appointments_per_patient": 20}).status_code == 200


def test_a_series_racing_single_bookings_for_one_occurrence_is_all_or_nothing(api, patients):
    for round_ in range(ROUNDS):
        doctor = api.doctor(family_name=f"Series{round_}", time_zone="America/New_York")
        first = day_after(30 + 7 * round_) + timedelta(hours=15)  # 10:00 or 11:00 in New York
        third = first + timedelta(weeks=2)
        series = lambda: api.post(
            "/appointment-series",
            {
                "doctor_id": doctor,
                "patient_id": patients[0],
                "start": utc_iso(first),
                "repeat": {"every_weeks": 1, "count": 4},
            },
        )
        singles = [lambda p=p: api.book(doctor, p, third) for p in patients[1:20]]
        answers = fire([*singles[:10], series, *singles[10:]], workers=20)
        made = answers[10]
        single_wins = [r for r in answers[:10] + answers[11:] if r.status_code == 201]
        assert made.status_code in (201, 409), made.text
        if made.status_code == 201:
            assert len(made.json()["appointments"]) == 4 and not single_wins
        else:
            assert made.json()["code"] == "SLOT_UNAVAILABLE"
            assert made.json()["errors"][0]["field"] == "occurrences[2].start"
            assert len(single_wins) == 1
        live = api.schedule(doctor, first - timedelta(days=1), first + timedelta(weeks=4))
        assert len([a for a in live if a["start"] == utc_iso(third)]) == 1  # never two
        assert len(live) == (4 if made.status_code == 201 else 1)
