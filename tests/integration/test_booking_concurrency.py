"""No double booking under concurrency, proven over real HTTP against the local stack
(API Gateway lookalike → function workers → DynamoDB Local)."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

import pytest
import requests

from tests import days

ALL_DAY = {d: [{"start": "00:00", "end": "24:00"}] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
RACERS = 50


def utc_iso(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


class Api:
    def __init__(self, stack):
        self.url = stack.url
        self.headers = {"Authorization": f"Bearer {stack.token('staff')}"}

    def post(self, path, body):
        return requests.post(self.url + path, json=body, headers=self.headers, timeout=60)

    def patch(self, path, body):
        return requests.patch(self.url + path, json=body, headers=self.headers, timeout=60)

    def get(self, path, **params):
        return requests.get(self.url + path, params=params, headers=self.headers, timeout=60)

    def doctor(self, **fields):
        body = {
            "given_name": "Race",
            "family_name": "Doctor",
            "specialty": "Concurrency",
            "time_zone": "UTC",
            "slot_minutes": 15,
            "working_hours": ALL_DAY,
            **fields,
        }
        response = self.post("/doctors", body)
        assert response.status_code == 201, response.text
        return response.json()["id"]

    def patient(self, i=0):
        response = self.post(
            "/patients",
            {"given_name": "Race", "family_name": f"Patient{i}", "birth_date": "1990-01-01", "sex": "unknown"},
        )
        assert response.status_code == 201, response.text
        return response.json()["id"]

    def book(self, doctor, patient, start, minutes=15):
        return self.post(
            "/appointments",
            {"doctor_id": doctor, "patient_id": patient, "start": utc_iso(start), "duration_minutes": minutes},
        )

    def schedule(self, doctor, start, end, retries_when_unavailable=0):
        """The doctor's appointments in the window, every page; a 503 is retried after its Retry-After
        up to ``retries_when_unavailable`` times (a stack with injected faults)."""
        items, token = [], None
        while True:
            params = {"from": utc_iso(start), "to": utc_iso(end), "limit": 100}
            if token:
                params["next_token"] = token
            answer = self.get(f"/doctors/{doctor}/schedule", **params)
            for _ in range(retries_when_unavailable):
                if answer.status_code != 503:
                    break
                time.sleep(float(answer.headers.get("Retry-After", "1")))
                answer = self.get(f"/doctors/{doctor}/schedule", **params)
            assert answer.status_code == 200, answer.text
            body = answer.json()
            items += body["items"]
            token = body["next_token"]
            if not token:
                return items


@pytest.fixture(scope="module")
def api(stack):
    return Api(stack)


@pytest.fixture(scope="module")
def racers(api):
    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(api.patient, range(RACERS)))


def day_after(n: int) -> datetime:
    """Midnight UTC ``n`` days after today in UTC (n ≥ 2; these doctors work in UTC, all day): tests/days.py."""
    return days.midnight(n)


def fire(calls):
    with ThreadPoolExecutor(RACERS) as pool:
        return list(pool.map(lambda call: call(), calls))


def codes(responses):
    return sorted(r.status_code for r in responses)


def test_fifty_bookings_of_one_slot_make_exactly_one_appointment(api, racers):
    doctor, start = api.doctor(), day_after(3) + timedelta(hours=9)
    responses = fire([lambda p=p: api.book(doctor, p, start) for p in racers])
    assert codes(responses) == [201] + [409] * (RACERS - 1), [r.text for r in responses if r.status_code != 409]
    assert {r.json()["code"] for r in responses if r.status_code == 409} == {"SLOT_UNAVAILABLE"}
    assert len(api.schedule(doctor, start - timedelta(hours=4), start + timedelta(hours=4))) == 1


def test_overlapping_but_different_intervals_make_exactly_one(api, racers):
    doctor, noon = api.doctor(), day_after(4) + timedelta(hours=12)
    # every interval covers 12:00-12:15, starting up to 2 h before and lasting up to 4 h
    calls = [
        lambda p=p, i=i: api.book(doctor, p, noon - timedelta(minutes=15 * (i % 8)), 15 * (i % 8) + 15 * (1 + i % 5))
        for i, p in enumerate(racers)
    ]
    responses = fire(calls)
    assert codes(responses) == [201] + [409] * (RACERS - 1), [r.text for r in responses if r.status_code >= 500]
    assert len(api.schedule(doctor, noon - timedelta(hours=5), noon + timedelta(hours=5))) == 1


def test_one_patient_booking_many_doctors_at_once_gets_one(api):
    patient = api.patient(999)
    doctors = [api.doctor(family_name=f"D{i}") for i in range(10)]
    start = day_after(5) + timedelta(hours=10)
    responses = fire(
        [
            lambda d=d, k=k: api.book(d, patient, start + timedelta(minutes=15 * (k % 2)), 30)
            for d in doctors
            for k in range(5)
        ]
    )
    assert codes(responses) == [201] + [409] * (len(responses) - 1)
    assert {r.json()["code"] for r in responses if r.status_code == 409} <= {"PATIENT_UNAVAILABLE", "SLOT_UNAVAILABLE"}
    mine = api.get(f"/patients/{patient}/appointments", limit=100).json()["items"]
    assert len(mine) == 1


def test_a_reschedule_racing_a_booking_never_double_books(api, racers):
    doctor = api.doctor()
    base = day_after(6) + timedelta(hours=8)
    for round_ in range(10):
        here, there = base + timedelta(minutes=60 * round_), base + timedelta(minutes=60 * round_ + 30)
        mover = api.book(doctor, racers[2 * round_], here)
        assert mover.status_code == 201, mover.text
        move = lambda: api.patch(f"/appointments/{mover.json()['id']}", {"start": utc_iso(there)})
        take = lambda: api.book(doctor, racers[2 * round_ + 1], there)
        moved, taken = fire([move, take])
        assert sorted([moved.status_code, taken.status_code]) in ([200, 409], [201, 409]), (moved.text, taken.text)
        live = api.schedule(doctor, here, there + timedelta(minutes=15))  # this round only
        assert len([a for a in live if a["start"] == utc_iso(there)]) == 1
        assert len(live) == (2 if taken.status_code == 201 else 1)
