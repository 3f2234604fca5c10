"""Rooms and equipment under concurrency (v1.2), over real HTTP (local gateway → function workers →
DynamoDB Local), each race repeated over several rounds with zero violations allowed: a resource is
one more owner of the 5-minute cells, taken in the booking's own transaction, so no room is ever
double-booked whoever books it through whichever doctor.

- 50 clients booking the one room of a location through different doctors at overlapping times;
- a reschedule racing a booking for the room it would move into;
- a hold on the last free room racing bookings;
- a weekly series needing the room racing single bookings of one of its occurrences.
"""

from __future__ import annotations

import itertools
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

import pytest

from tests import days
from tests.integration.test_booking_concurrency import Api, utc_iso

ROUNDS = 3
ALL_DAY = [{"start": "00:00", "end": "24:00"}]
CHECK_UP = {"code": "check-up", "name": "Check-up", "duration_minutes": 30, "resource_kinds": ["exam-room"]}


def fire(calls, workers=50):
    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(lambda call: call(), calls))


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


class Clinic:
    """A location with one exam room, and doctors working there all day, every day (UTC)."""

    def __init__(self, api: Api, name: str, doctors: int) -> None:
        self.api = api
        made = api.post("/locations", {"name": name, "time_zone": "UTC"})
        assert made.status_code == 201, made.text
        self.location = made.json()["id"]
        room = api.post(
            "/resources", {"location_id": self.location, "name": "Room", "kind": "exam-room", "category": "room"}
        )
        assert room.status_code == 201, room.text
        self.room = room.json()["id"]
        hours = {
            d: [{**ALL_DAY[0], "location_id": self.location}] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
        }
        self.doctors = [
            api.doctor(family_name=f"{name}{i}", working_hours=hours, appointment_types=[CHECK_UP])
            for i in range(doctors)
        ]

    def book(self, doctor: str, patient: str, start: datetime):
        return self.api.post(
            "/appointments",
            {"doctor_id": doctor, "patient_id": patient, "start": utc_iso(start), "appointment_type": "check-up"},
        )

    def room_schedule(self, start: datetime, end: datetime) -> list[dict]:
        answer = self.api.get(
            f"/resources/{self.room}/schedule", **{"from": utc_iso(start), "to": utc_iso(end), "limit": 100}
        )
        assert answer.status_code == 200, answer.text
        return answer.json()["items"]


def no_overlaps(appointments: list[dict]) -> None:
    spans = sorted((instant(a["start"]), instant(a["end"])) for a in appointments)
    for (_, end), (start, _) in itertools.pairwise(spans):
        assert end <= start, "the room is booked twice at once"


@pytest.fixture(scope="module")
def api(stack):
    return Api(stack)


@pytest.fixture(scope="module")
def patients(api):
    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(api.patient, range(6000, 6060)))


def test_fifty_clients_booking_one_room_through_different_doctors_get_one_winner_per_overlap(api, patients):
    for round_ in range(ROUNDS):
        clinic = Clinic(api, f"Rooms{round_}", doctors=10)
        base = days.midnight(min_days=20 + round_) + timedelta(hours=9)
        # 50 requests through 10 doctors at six starts 15 minutes apart: each 30-minute check-up overlaps its neighbours
        wanted = [(clinic.doctors[i % 10], patients[i], base + timedelta(minutes=15 * (i % 6))) for i in range(50)]
        answers = fire([lambda w=w: clinic.book(*w) for w in wanted])
        assert all(r.status_code in (201, 409) for r in answers), [r.text for r in answers if r.status_code >= 500]
        refused = {r.json()["code"] for r in answers if r.status_code == 409}
        assert refused <= {"RESOURCE_UNAVAILABLE", "SLOT_UNAVAILABLE"}
        booked = clinic.room_schedule(base - timedelta(hours=1), base + timedelta(hours=3))
        assert len(booked) == sum(r.status_code == 201 for r in answers) >= 1
        no_overlaps(booked)
        # one winner per overlapping pair, and nobody refused a time no winner overlaps
        starts = sorted({instant(a["start"]) for a in booked})
        assert all(b - a >= timedelta(minutes=30) for a, b in itertools.pairwise(starts))
        for _, _, start in wanted:
            assert any(abs(start - won) < timedelta(minutes=30) for won in starts), "a free room was refused"


def test_a_reschedule_racing_a_booking_for_the_room_it_would_move_into(api, patients):
    for round_ in range(ROUNDS):
        clinic = Clinic(api, f"Move{round_}", doctors=2)
        base = days.midnight(min_days=30 + round_) + timedelta(hours=9)
        moving = clinic.book(clinic.doctors[0], patients[0], base)
        assert moving.status_code == 201, moving.text
        target = base + timedelta(hours=2)
        answers = fire(
            [
                lambda: api.patch(f"/appointments/{moving.json()['id']}", {"start": utc_iso(target)}),
                *[lambda p=p: clinic.book(clinic.doctors[1], p, target) for p in patients[1:11]],
            ],
            workers=11,
        )
        winners = [r for r in answers if r.status_code in (200, 201)]
        assert len(winners) == 1, [r.text for r in answers]
        assert all(r.status_code == 409 for r in answers if r not in winners), [r.text for r in answers]
        booked = clinic.room_schedule(base - timedelta(hours=1), base + timedelta(hours=4))
        no_overlaps(booked)
        at_target = [a for a in booked if instant(a["start"]) == target]
        assert len(at_target) == 1
        if answers[0].status_code == 200:  # the move won: its old time is free again, the room with it
            assert not [a for a in booked if instant(a["start"]) == base]


def test_a_hold_on_the_last_free_room_racing_bookings(api, patients):
    for round_ in range(ROUNDS):
        clinic = Clinic(api, f"Hold{round_}", doctors=6)
        at = days.midnight(min_days=40 + round_) + timedelta(hours=11)
        hold = lambda: api.post(
            "/holds",
            {
                "doctor_id": clinic.doctors[0],
                "patient_id": patients[0],
                "start": utc_iso(at),
                "appointment_type": "check-up",
            },
        )
        answers = fire(
            [hold, *[lambda i=i: clinic.book(clinic.doctors[1 + i % 5], patients[1 + i], at) for i in range(20)]],
            workers=21,
        )
        winners = [r for r in answers if r.status_code == 201]
        assert len(winners) == 1, [r.text for r in answers]
        assert {r.json()["code"] for r in answers if r.status_code == 409} <= {
            "RESOURCE_UNAVAILABLE",
            "SLOT_UNAVAILABLE",
        }
        if answers[0].status_code == 201:  # the hold won: confirming it books exactly that room
            confirmed = api.post(f"/holds/{answers[0].json()['id']}/confirm", {})
            assert confirmed.status_code == 201 and confirmed.json()["resources"] == [
                {"id": clinic.room, "kind": "exam-room"}
            ]
        no_overlaps(clinic.room_schedule(at - timedelta(hours=1), at + timedelta(hours=2)))


def test_a_series_needing_the_room_racing_single_bookings_is_all_or_nothing(api, patients):
    for round_ in range(ROUNDS):
        clinic = Clinic(api, f"Series{round_}", doctors=5)
        first = days.midnight(min_days=50 + 7 * round_) + timedelta(hours=14)
        third = first + timedelta(weeks=2)
        series = lambda: api.post(
            "/appointment-series",
            {
                "doctor_id": clinic.doctors[0],
                "patient_id": patients[0],
                "start": utc_iso(first),
                "appointment_type": "check-up",
                "repeat": {"every_weeks": 1, "count": 4},
            },
        )
        singles = [lambda i=i: clinic.book(clinic.doctors[1 + i % 4], patients[1 + i], third) for i in range(12)]
        answers = fire([*singles[:6], series, *singles[6:]], workers=13)
        made = answers[6]
        single_wins = [r for r in answers[:6] + answers[7:] if r.status_code == 201]
        assert made.status_code in (201, 409), made.text
        if made.status_code == 201:
            assert len(made.json()["appointments"]) == 4 and not single_wins
        else:
            assert made.json()["code"] == "RESOURCE_UNAVAILABLE"
            assert made.json()["errors"][0]["field"] == "occurrences[2].start"
            assert len(single_wins) == 1
        booked = clinic.room_schedule(first - timedelta(days=1), first + timedelta(weeks=4))
        no_overlaps(booked)
        assert len([a for a in booked if instant(a["start"]) == third]) == 1
        assert len(booked) == (4 if made.status_code == 201 else 1)
