"""v1.2 under concurrency, over real HTTP (local gateway → function workers, several warm per function →
DynamoDB Local), each race repeated over several rounds with zero violations allowed:

- a PATCH /settings racing bookings in flight: no booking that starts after the PATCH has answered is
  decided by the old values, whatever the warm workers read before;
- 30 holds of one patient racing: exactly ``max_holds_per_patient`` are placed;
- 30 waitlist entries of one patient racing: exactly ``max_waitlist_entries_per_patient`` are made.
"""

from __future__ import annotations

import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

import pytest
import requests

from tests.integration.test_booking_concurrency import Api, day_after, utc_iso

ROUNDS = 3
RACERS = 30


@pytest.fixture(scope="module")
def api(stack):
    return Api(stack)


def as_patient(stack, patient: str) -> dict[str, str]:
    return stack.headers("patient", patient)


def soon_day() -> datetime:
    """Three days ahead (UTC midnight): inside the longest notice the settings allow (7 days)."""
    return day_after(3)


def test_no_booking_that_starts_after_a_settings_change_has_answered_is_decided_by_the_old_values(api, stack):
    """Each round: every booking function's warm workers hold the settings (no notice), patients book
    times three to four days ahead while staff raise the minimum notice to a week; every booking sent
    after the PATCH answered must be TOO_SOON. Those sent before may go either way."""
    try:
        for round_ in range(ROUNDS):
            _notice_round(api, stack, round_)
    finally:
        assert api.patch("/settings", {"min_notice_minutes": 0}).status_code == 200


def _notice_round(api, stack, round_: int) -> None:
    assert api.patch("/settings", {"min_notice_minutes": 0}).status_code == 200
    doctor = api.doctor(family_name=f"Notice{round_}")
    patients = [api.patient(3000 + 100 * round_ + i) for i in range(24)]
    base = soon_day() + timedelta(hours=8 + round_)
    # warm every worker of the booking function with the settings as they are (no notice)
    for i in range(8):
        warm = requests.post(
            api.url + "/appointments",
            json={
                "doctor_id": doctor,
                "patient_id": patients[i],
                "start": utc_iso(base + timedelta(days=1, minutes=15 * i)),
            },
            headers=as_patient(stack, patients[i]),
            timeout=60,
        )
        assert warm.status_code == 201, warm.text
    answered_at: list[float] = []
    answered = threading.Event()
    results: list[tuple[float, requests.Response]] = []
    lock = threading.Lock()

    def change() -> None:
        time.sleep(0.1)
        response = api.patch("/settings", {"min_notice_minutes": 7 * 24 * 60})
        assert response.status_code == 200, response.text
        answered_at.append(time.monotonic())
        answered.set()

    def booking(i: int) -> None:
        if i < len(patients) // 2:
            time.sleep(random.uniform(0, 0.3))  # in flight around the change
        else:
            answered.wait(60)  # right after it answered, all at once
        sent = time.monotonic()
        response = requests.post(
            api.url + "/appointments",
            json={"doctor_id": doctor, "patient_id": patients[i], "start": utc_iso(base + timedelta(minutes=15 * i))},
            headers=as_patient(stack, patients[i]),
            timeout=60,
        )
        with lock:
            results.append((sent, response))

    with ThreadPoolExecutor(len(patients) + 1) as pool:
        for future in [pool.submit(change), *[pool.submit(booking, i) for i in range(len(patients))]]:
            future.result()
    (answered_when,) = answered_at
    after = [r for sent, r in results if sent > answered_when]
    assert len(after) >= len(patients) // 2
    assert all(r.status_code in (201, 422) for _, r in results), [r.text for _, r in results]
    decided_by_old = [r.json() for r in after if r.status_code != 422 or r.json()["code"] != "TOO_SOON"]
    assert decided_by_old == [], f"round {round_}: booked on the old settings after the change answered"


def fire(calls, workers=RACERS):
    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(lambda call: call(), calls))


def test_thirty_racing_holds_of_one_patient_place_exactly_the_limit(api, stack):
    assert (
        api.patch("/settings", {"max_holds_per_patient": 2, "max_open_appointments_per_patient": 20}).status_code == 200
    )
    for round_ in range(ROUNDS):
        doctor, patient = api.doctor(family_name=f"Holds{round_}"), api.patient(4000 + round_)
        base = day_after(40 + round_) + timedelta(hours=8)
        mine = as_patient(stack, patient)
        answers = fire(
            [
                lambda i=i: requests.post(
                    api.url + "/holds",
                    json={
                        "doctor_id": doctor,
                        "patient_id": patient,
                        "start": utc_iso(base + timedelta(minutes=15 * i)),
                    },
                    headers=mine,
                    timeout=60,
                )
                for i in range(RACERS)
            ]
        )
        assert sorted(r.status_code for r in answers) == [201] * 2 + [409] * (RACERS - 2), [
            r.text for r in answers if r.status_code not in (201, 409)
        ]
        assert {r.json()["code"] for r in answers if r.status_code == 409} == {"TOO_MANY_HOLDS"}
        # releasing one gives its place back at once
        released = next(r.json()["id"] for r in answers if r.status_code == 201)
        assert requests.delete(f"{api.url}/holds/{released}", headers=mine, timeout=60).status_code == 204
        again = requests.post(
            api.url + "/holds",
            json={"doctor_id": doctor, "patient_id": patient, "start": utc_iso(base + timedelta(hours=10))},
            headers=mine,
            timeout=60,
        )
        assert again.status_code == 201, again.text


def test_thirty_racing_waitlist_entries_of_one_patient_make_exactly_the_limit(api, stack):
    assert api.patch("/settings", {"max_waitlist_entries_per_patient": 5}).status_code == 200  # the stack is shared
    for round_ in range(ROUNDS):
        doctor, patient = api.doctor(family_name=f"Waitlist{round_}"), api.patient(5000 + round_)
        start = day_after(50 + round_) + timedelta(hours=8)
        mine = as_patient(stack, patient)
        window = {"doctor_id": doctor, "patient_id": patient}
        answers = fire(
            [
                lambda i=i: requests.post(
                    api.url + "/waitlist",
                    json={
                        **window,
                        "from": utc_iso(start + timedelta(days=i)),
                        "to": utc_iso(start + timedelta(days=i, hours=1)),
                    },
                    headers=mine,
                    timeout=60,
                )
                for i in range(RACERS)
            ]
        )
        assert sorted(r.status_code for r in answers) == [201] * 5 + [409] * (RACERS - 5), [
            r.text for r in answers if r.status_code not in (201, 409)
        ]
        assert {r.json()["code"] for r in answers if r.status_code == 409} == {"TOO_MANY_WAITLIST_ENTRIES"}
        listed = requests.get(f"{api.url}/patients/{patient}/waitlist", headers=mine, timeout=60).json()["items"]
        assert len([e for e in listed if e["status"] in ("waiting", "offered")]) == 5
