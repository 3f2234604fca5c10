"""The bench's scale section (issue 19's rows): one location with many doctors, rooms and a full day.

``ScaleWorld(send)`` sets up, through the API, at a location of its own (in UTC):

- ``DOCTORS`` doctors working there Monday to Friday, 08:00-18:00 (the 200 of the earliest search), the
  first ``SMALL`` of them also on a location of their own with the same hours (the search over fewer
  doctors, to show its DynamoDB calls do not grow with them);
- ``FAR`` doctors at a third location who work on Sundays only (a search whose first free slot is days
  into its window: the search walks the empty days first);
- a busy day: ``DAY_SHEET`` appointments on one day at the location, across the first doctors, each
  with its own patient turn, so that no patient is in two places at once;
- one doctor's 14 days with an appointment every few slots (its own availability over 14 days);
- a room and a type that needs it (a booking that takes a room).

``requests(name, n)`` answers requests as tests/benchkit/world.World does, so bench.py measures them
with the same warm probe (our CPU time, DynamoDB stubbed) and over HTTP (calls, items, latency).
"""

from __future__ import annotations

import itertools
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from functools import cached_property

from tests import days
from tests.benchkit.world import DAY_START, SLOT, SLOTS_PER_DAY, Req, Send, World, _monday_on_or_after, hours_at, iso

DOCTORS, SMALL, FAR = 200, 20, 200
DAY_SHEET = 300
SPAN = timedelta(days=14)
PATIENTS = 40  # DAY_SHEET / PATIENTS = 7.5 open appointments each (the clinic allows 20)
BUSY_EVERY = 3  # the 14-day doctor: an appointment every third slot
ROOM_TYPE = {"code": "scan", "name": "Scan", "duration_minutes": 15, "resource_kinds": ["scan-room"]}
SETUP_THREADS = 4

# name → (route function, what it measures): the rows, in order
ROWS: dict[str, str] = {
    "DoctorAvailability+14d": "one doctor's availability over 14 days (an appointment every third slot)",
    f"EarliestAvailability+{SMALL}": f"earliest availability, {SMALL} doctors at one location, 14 days, limit 100",
    f"EarliestAvailability+{DOCTORS}": f"earliest availability, {DOCTORS} doctors at one location, 14 days, limit 100",
    f"EarliestAvailability+{FAR}far": f"the same, {FAR} doctors who work Sundays only: the first slot days in",
    "BookAppointment+room": "a booking that takes a room (chosen by the service)",
    f"LocationDay+{DAY_SHEET}": f"the day sheet of a location with {DAY_SHEET} appointments",
}


class ScaleWorld:
    def __init__(self, send: Send) -> None:
        self.send = send
        self.monday = _monday_on_or_after(days.midnight())  # UTC, at least two days ahead
        self.world = World(send)  # its records made through the API: doctors, patients, sites
        self._rooms = itertools.count()

    def _in_parallel(self, make, count: int) -> list[str]:
        with ThreadPoolExecutor(SETUP_THREADS) as pool:
            return list(pool.map(lambda _: make(), range(count)))

    @cached_property
    def site(self) -> str:
        return self.world.new_site()

    @cached_property
    def small_site(self) -> str:
        return self.world.new_site()

    @cached_property
    def far_site(self) -> str:
        return self.world.new_site()

    @cached_property
    def doctors(self) -> list[str]:
        """DOCTORS at ``site``; the first SMALL also at ``small_site`` (their hours split between the two:
        mornings here, afternoons there)."""
        split = {
            day: [
                {"start": "08:00", "end": "13:00", "location_id": self.site},
                {"start": "13:00", "end": "18:00", "location_id": self.small_site},
            ]
            for day in ("mon", "tue", "wed", "thu", "fri")
        }
        first = self._in_parallel(lambda: self.world.new_doctor(working_hours=split), SMALL)
        return first + self._in_parallel(
            lambda: self.world.new_doctor(working_hours=hours_at(self.site)), DOCTORS - SMALL
        )

    @cached_property
    def far_doctors(self) -> list[str]:
        sundays = {"sun": [{"start": "08:00", "end": "18:00", "location_id": self.far_site}]}
        return self._in_parallel(lambda: self.world.new_doctor(working_hours=sundays), FAR)

    @cached_property
    def patients(self) -> list[str]:
        """The day sheet's and the room bookings' patients."""
        return self._new_patients()

    @cached_property
    def busy_doctors_patients(self) -> list[str]:
        """The 14-day doctor's (never wanted elsewhere at the same time)."""
        return self._new_patients()

    def _new_patients(self) -> list[str]:
        return self._in_parallel(self.world.new_patient, PATIENTS)

    def _book(self, doctor: str, start: datetime, patient: str, **fields) -> None:
        body = {"doctor_id": doctor, "patient_id": patient, "start": iso(start), **fields}
        self.world.create(Req("BookAppointment", "POST", "/appointments", body=body, expect=201))

    @cached_property
    def busy_day(self) -> datetime:
        """The Tuesday of the window's week: DAY_SHEET appointments at ``site``, on the mornings of the
        doctors past the first SMALL (whose mornings are at ``site`` too, but kept free for the search)."""
        day = self.monday + timedelta(days=1)
        per_doctor = 20  # 08:00-13:00 of a 10-hour day: the mornings
        doctors = self.doctors[SMALL : SMALL + DAY_SHEET // per_doctor]
        bookings = [
            (doctor, day.replace(hour=DAY_START) + slot * SLOT, self.patients[(slot * len(doctors) + d) % PATIENTS])
            for slot in range(per_doctor)
            for d, doctor in enumerate(doctors)
        ]
        with ThreadPoolExecutor(SETUP_THREADS) as pool:
            list(pool.map(lambda b: self._book(*b), bookings[:DAY_SHEET]))
        return day

    @cached_property
    def busy_doctor(self) -> str:
        """Works at a site of its own, 14 days of hours with an appointment every BUSY_EVERY-th slot."""
        doctor = self.world.new_doctor(working_hours=hours_at(self.world.new_site()))
        starts = [
            (self.monday + timedelta(days=d)).replace(hour=DAY_START) + s * SLOT
            for d in range(14)
            if (self.monday + timedelta(days=d)).weekday() < 5
            for s in range(0, SLOTS_PER_DAY, BUSY_EVERY)
        ]
        with ThreadPoolExecutor(SETUP_THREADS) as pool:
            list(
                pool.map(
                    lambda i: self._book(doctor, starts[i], self.busy_doctors_patients[i % PATIENTS]),
                    range(len(starts)),
                )
            )
        return doctor

    @cached_property
    def room_doctor(self) -> str:
        """Works at a site of its own with two scan rooms and a type that needs one."""
        site = self.world.new_site()
        for name in ("Scan room 1", "Scan room 2"):
            body = {"location_id": site, "name": name, "kind": "scan-room", "category": "room"}
            self.world.create(Req("CreateResource", "POST", "/resources", body=body, expect=201))
        return self.world.new_doctor(working_hours=hours_at(site), appointment_types=[ROOM_TYPE])

    def window(self) -> dict[str, str]:
        return {"from": iso(self.monday), "to": iso(self.monday + SPAN)}

    def _room_booking(self) -> Req:
        index = next(self._rooms)  # weekday slots from the third week on, clear of everything above
        day = self.monday + timedelta(days=14 + 7 * (index // (5 * SLOTS_PER_DAY)) + index // SLOTS_PER_DAY % 5)
        body = {
            "doctor_id": self.room_doctor,
            "patient_id": self.patients[index % PATIENTS],
            "start": iso(day.replace(hour=DAY_START) + (index % SLOTS_PER_DAY) * SLOT),
            "appointment_type": ROOM_TYPE["code"],
        }
        return Req("BookAppointment", "POST", "/appointments", body=body, expect=201)

    def _request(self, name: str) -> Req:
        if name == "DoctorAvailability+14d":
            path = {"doctor_id": self.busy_doctor}
            return Req("DoctorAvailability", "GET", "/doctors/{doctor_id}/availability", path, self.window())
        if name == f"EarliestAvailability+{SMALL}":
            return self._earliest(self.small_site)
        if name == f"EarliestAvailability+{DOCTORS}":
            return self._earliest(self.site)
        if name == f"EarliestAvailability+{FAR}far":
            self.far_doctors  # noqa: B018 - made before the first request
            return self._earliest(self.far_site)
        if name == "BookAppointment+room":
            return self._room_booking()
        if name == f"LocationDay+{DAY_SHEET}":
            day = self.busy_day
            return Req(
                "LocationDay",
                "GET",
                "/locations/{location_id}/day",
                {"location_id": self.site},
                {"date": day.date().isoformat()},
            )
        raise KeyError(name)

    def _earliest(self, site: str) -> Req:
        self.doctors  # noqa: B018 - made before the first request
        return Req(
            "EarliestAvailability", "GET", "/availability", query={**self.window(), "location_id": site, "limit": "100"}
        )

    def requests(self, name: str, n: int) -> list[Req]:
        return [self._request(name) for _ in range(n)]
