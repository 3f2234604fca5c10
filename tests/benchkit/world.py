"""A small seeded world, and requests for every route that succeed against it.

``World(send)`` creates what the requests need through ``send`` — real HTTP to the local stack in
`make bench`, ``invoke`` against moto in tests/handlers/test_call_counts.py — and lazily: asking for
cancellations books the appointments to cancel first. ``world.requests(function, n)`` answers ``n``
requests of one route that each succeed once (n bookings of n free slots, n cancellations of n
booked appointments, the same read n times), so that a cold-start probe, a warm-up and the measured
requests never trip over each other.

Every route declared in clinic.routes has a factory here; ``missing_factories()`` names those that
do not (tests/handlers/test_call_counts.py fails on them, so a new route gets measured). ``VARIANTS``
names the extra requests of a route that are measured on their own rows (a keyed booking, a booking by
appointment type).
Everything is in UTC; doctors work Monday to Friday, 08:00-18:00, on a 15-minute grid. Each kind of
write that takes time has a doctor, a day range, or both of its own, so that no two factories ever ask
for the same time and no patient is ever wanted in two places at once:

    single bookings      ``doctor``         from ``base`` on (day 1 on)
    series               ``series_doctor``  from day SERIES_FIRST_DAY on
    typed bookings       ``typed_doctor``   from day TYPED_FIRST_DAY on
    holds                ``hold_doctor``    from day HOLD_FIRST_DAY on
    time off             ``away_doctor``    from day TIME_OFF_FIRST_DAY on (no patients)
    bookings with a room ``room_doctor``    from day ROOM_FIRST_DAY on (at ``site``, taking its rooms)
    waitlist entries     ``waitlist_doctor`` (no working hours: an entry is never offered a time)

Locations (``site``, ``other_site``, in UTC like the doctors) have doctors of their own whose hours name
them (``sited_doctor``, ``moving_doctor``); nobody books with those.
"""

from __future__ import annotations

import itertools
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import Any
from urllib.parse import urlencode

from local_stack import events, tokens
from tests import benchkit, days  # noqa: F401 - benchkit puts the layer on sys.path

SLOT = timedelta(minutes=15)
DAY_START, DAY_END = 8, 18  # working hours, UTC
WEEKDAY_HOURS = [{"start": f"{DAY_START:02d}:00", "end": f"{DAY_END:02d}:00"}]
WORKING_HOURS = dict.fromkeys(("mon", "tue", "wed", "thu", "fri"), WEEKDAY_HOURS)
SLOTS_PER_DAY = (DAY_END - DAY_START) * 4
SERIES_FIRST_DAY = 100  # series live far from single bookings, so one patient is never in two places
TYPED_FIRST_DAY = 160  # bookings by appointment type, far from the series (which use days 100-113 per 200)
HOLD_FIRST_DAY = 220  # holds (and the appointments confirming them), inside the default horizon of 365 days
TIME_OFF_FIRST_DAY = 300
ROOM_FIRST_DAY = 30  # bookings that take a room: their own doctor, at ``site``
ROOM_TYPE = {"code": "room-visit", "name": "Room visit", "duration_minutes": 15, "resource_kinds": ["exam-room"]}
# The typed doctor's one appointment type: 30 minutes, buffers of 5 before and 10 after, so a booking
# occupies the doctor for 45 minutes: three 15-minute slots.
APPOINTMENT_TYPE = {
    "code": "consult",
    "name": "Consultation",
    "duration_minutes": 30,
    "buffer_before_minutes": 5,
    "buffer_after_minutes": 10,
}
TYPED_STEP = 3  # slots from one typed booking's start to the next: 45 minutes, buffers included
WAITLIST_DAYS = 14  # a waitlist entry's window
HOLD_MINUTES = 60  # the clinic's hold_minutes while the world holds: a confirm never finds its hold expired
WINDOW = timedelta(days=7)  # the window of the schedule, availability and patient-appointment reads
CALENDAR_PATIENTS = 4


def iso(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


_claims_cache: dict[tuple[str, str | None], dict[str, str]] = {}
_token_cache: dict[tuple[str, str | None], str] = {}


def token(role: str, record_id: str | None = None) -> str:
    key = (role, record_id)
    if key not in _token_cache:
        _token_cache[key] = tokens.mint(role, record_id)
    return _token_cache[key]


def claims(role: str, record_id: str | None = None) -> dict[str, str]:
    """The claims API Gateway's Cognito authorizer would hand the function for this caller."""
    key = (role, record_id)
    if key not in _claims_cache:
        _claims_cache[key] = tokens.as_authorizer_claims(tokens.verify(f"Bearer {token(role, record_id)}"))
    return _claims_cache[key]


@dataclass
class Req:
    """One API request, usable over HTTP (``http``) or as a Lambda event (``event``)."""

    function: str  # the route's function, e.g. "BookAppointment"
    method: str
    resource: str  # API Gateway resource path, e.g. /appointments/{appointment_id}
    path_params: dict[str, str] = field(default_factory=dict)
    query: dict[str, str | list[str]] = field(default_factory=dict)  # a list: a repeated parameter
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    caller: tuple[str, str | None] | None = ("staff", None)  # (role, record id); None: no token
    expect: int = 200

    @property
    def logical_id(self) -> str:
        return f"{self.function}Function"

    @property
    def path(self) -> str:
        path = self.resource
        for name, value in self.path_params.items():
            path = path.replace("{" + name + "}", value)
        return path

    def http(self) -> tuple[str, str, dict[str, Any]]:
        """(method, path with query, requests kwargs) for the bench's HTTP client."""
        kwargs: dict[str, Any] = {}
        headers = dict(self.headers)
        if self.caller is not None:
            headers["Authorization"] = f"Bearer {token(*self.caller)}"
        if headers:
            kwargs["headers"] = headers
        if self.body is not None:
            kwargs["json"] = self.body
        return self.method, self.path + (f"?{urlencode(self.query, doseq=True)}" if self.query else ""), kwargs

    def event(self) -> dict[str, Any]:
        """The REST proxy event API Gateway would send (what the local stack's gateway builds)."""
        body = json.dumps(self.body).encode() if self.body is not None else b""
        headers = {"Content-Type": "application/json", **self.headers} if self.body is not None else dict(self.headers)
        return events.build_event(
            method=self.method,
            resource=self.resource,
            path=self.path,
            path_parameters=dict(self.path_params) or None,
            query_string=urlencode(self.query, doseq=True),
            headers=headers,
            body=body,
            claims=claims(*self.caller) if self.caller is not None else None,
            request_id=str(uuid.uuid4()),
        )

    def keyed(self) -> Req:
        """The same request with a fresh Idempotency-Key."""
        return Req(
            self.function,
            self.method,
            self.resource,
            dict(self.path_params),
            dict(self.query),
            self.body,
            {**self.headers, "Idempotency-Key": str(uuid.uuid4())},
            self.caller,
            self.expect,
        )


Send = Callable[[Req], tuple[int, Any]]  # → (status, parsed JSON body or None)


def hours_at(location_id: str) -> dict[str, list[dict[str, str]]]:
    """WORKING_HOURS, worked at one location."""
    return {day: [{**interval, "location_id": location_id} for interval in WEEKDAY_HOURS] for day in WORKING_HOURS}


def _monday_on_or_after(day: datetime) -> datetime:
    return day + timedelta(days=(7 - day.weekday()) % 7)


class World:
    def __init__(self, send: Send, *, patients: int = 60, start: datetime | None = None) -> None:
        self.send = send
        self.base = start or days.midnight()  # UTC, at least two days ahead (tests/days.py)
        self.patient_count = patients
        self._slots = itertools.count()
        self._series = itertools.count()
        self._time_off = itertools.count()
        self._typed = itertools.count()
        self._holds = itertools.count()
        self._waitlist = itertools.count()
        self._turn = itertools.count()
        self._names = itertools.count()
        self._moves = itertools.count()
        self._rooms = itertools.count()

    # ------------------------------------------------------------------ set-up through the API
    def create(self, req: Req) -> Any:
        status, body = self.send(req)
        if status != req.expect:
            raise RuntimeError(f"set-up {req.method} {req.path}: expected {req.expect}, got {status} {body}")
        return body

    def new_doctor(self, **fields: Any) -> str:
        body = {
            "given_name": "Bench",
            "family_name": f"Doctor{next(self._names)}",
            "specialty": "Benchmarks",
            "time_zone": "UTC",
            "slot_minutes": 15,
            "working_hours": WORKING_HOURS,
            **fields,
        }
        return self.create(Req("CreateDoctor", "POST", "/doctors", body=body, expect=201))["id"]

    def new_patient(self) -> str:
        body = {
            "given_name": "Bench",
            "family_name": f"Bench{next(self._names)}",
            "birth_date": "1990-01-01",
            "sex": "unknown",
        }
        return self.create(Req("RegisterPatient", "POST", "/patients", body=body, expect=201))["id"]

    @cached_property
    def doctor(self) -> str:
        """Books single appointments; the schedule, availability and get-doctor reads are its."""
        return self.new_doctor()

    @cached_property
    def series_doctor(self) -> str:
        return self.new_doctor()

    @cached_property
    def spare_doctor(self) -> str:
        """Changed by UpdateDoctor (which bumps its calendar version: nobody books with it)."""
        return self.new_doctor()

    @cached_property
    def away_doctor(self) -> str:
        """Takes time off (which bumps its calendar version too)."""
        return self.new_doctor()

    @cached_property
    def typed_doctor(self) -> str:
        """Books by appointment type (APPOINTMENT_TYPE, with buffers)."""
        return self.new_doctor(appointment_types=[APPOINTMENT_TYPE])

    @cached_property
    def hold_doctor(self) -> str:
        """Holds are placed with it. Set up with the clinic's hold_minutes at HOLD_MINUTES, before any hold
        is placed (so no container has the default cached): a hold made for a request still holds when the
        request is sent, however slow the cold starts between are."""
        self.create(Req("UpdateSettings", "PATCH", "/settings", body={"hold_minutes": HOLD_MINUTES}))
        return self.new_doctor()

    @cached_property
    def waitlist_doctor(self) -> str:
        """Waited for: it has no working hours, so the matcher never offers an entry a time, and every entry
        stays ``waiting`` (what GetWaitlistEntry reads and LeaveWaitlist cancels, whatever the workers do)."""
        return self.new_doctor(working_hours={})

    def new_site(self) -> str:
        body = {"name": f"Bench site {next(self._names)}", "time_zone": "UTC"}
        return self.create(Req("CreateLocation", "POST", "/locations", body=body, expect=201))["id"]

    @cached_property
    def site(self) -> str:
        """A location: read, listed, given rooms and doctors."""
        return self.new_site()

    @cached_property
    def other_site(self) -> str:
        """Changed by UpdateLocation; where moving_doctor's hours go every other request."""
        return self.new_site()

    @cached_property
    def room(self) -> str:
        """A room at ``site``: read, listed and renamed."""
        body = {"location_id": self.site, "name": "Bench room", "kind": "exam-room", "category": "room"}
        return self.create(Req("CreateResource", "POST", "/resources", body=body, expect=201))["id"]

    @cached_property
    def device(self) -> str:
        """A piece of equipment at ``site``: read as a FHIR Device."""
        body = {"location_id": self.site, "name": "Bench echo", "kind": "ultrasound", "category": "equipment"}
        return self.create(Req("CreateResource", "POST", "/resources", body=body, expect=201))["id"]

    @cached_property
    def sited_doctor(self) -> str:
        """Works at ``site`` (so GET /doctors?location_id= finds someone)."""
        return self.new_doctor(working_hours=hours_at(self.site))

    @cached_property
    def moving_doctor(self) -> str:
        """Its hours move between ``site`` and ``other_site`` (UpdateDoctor+location)."""
        return self.new_doctor(working_hours=hours_at(self.site))

    @cached_property
    def room_doctor(self) -> str:
        """Works at ``site`` with a type that needs an exam room (``room`` is one): bookings take it."""
        self.room  # noqa: B018 - the room first: a booking needs one free
        return self.new_doctor(working_hours=hours_at(self.site), appointment_types=[ROOM_TYPE])

    def room_booking(self) -> Req:
        body = {
            "doctor_id": self.room_doctor,
            "patient_id": self.patient(),
            "start": iso(self.far_slot(ROOM_FIRST_DAY, next(self._rooms))),
            "appointment_type": ROOM_TYPE["code"],
        }
        return Req("BookAppointment", "POST", "/appointments", body=body, expect=201)

    def doctors_at_site(self) -> Req:
        """GET /doctors?location_id= of ``site``, where ``sited_doctor`` works."""
        self.sited_doctor  # noqa: B018 - made before the first request, so the list finds someone
        return Req("ListDoctors", "GET", "/doctors", query={"location_id": self.site})

    def move(self) -> Req:
        """The moving doctor's hours to the other site: it leaves one location and joins the other."""
        to = self.other_site if next(self._moves) % 2 == 0 else self.site
        return Req(
            "UpdateDoctor",
            "PATCH",
            "/doctors/{doctor_id}",
            {"doctor_id": self.moving_doctor},
            body={"working_hours": hours_at(to)},
        )

    @cached_property
    def patients(self) -> list[str]:
        return [self.new_patient() for _ in range(self.patient_count)]

    def patient(self) -> str:
        """The patients in turn: each holds few open appointments (the clinic allows 20 by default)."""
        return self.patients[next(self._turn) % len(self.patients)]

    def slot(self) -> datetime:
        """The next free slot of ``doctor``: weekdays in working hours, from ``base`` on."""
        index = next(self._slots)
        day = self.base
        while True:
            if day.weekday() < 5:
                if index < SLOTS_PER_DAY:
                    return day.replace(hour=DAY_START) + index * SLOT
                index -= SLOTS_PER_DAY
            day += timedelta(days=1)

    def series_start(self) -> datetime:
        """A free first slot for a weekly series of two: the first week of a fortnight of its own."""
        index = next(self._series)
        block, slot = divmod(index, 5 * SLOTS_PER_DAY)
        monday = _monday_on_or_after(self.base + timedelta(days=SERIES_FIRST_DAY)) + timedelta(weeks=2 * block)
        day, minute = divmod(slot, SLOTS_PER_DAY)
        return monday + timedelta(days=day, hours=DAY_START) + minute * SLOT

    def far_slot(self, first_day: int, index: int, step: int = 1) -> datetime:
        """The ``index``-th start on a grid of ``step`` slots, weekdays in working hours, from day ``first_day``."""
        per_day = SLOTS_PER_DAY // step
        day = self.base + timedelta(days=first_day)
        while True:
            if day.weekday() < 5:
                if index < per_day:
                    return day.replace(hour=DAY_START) + index * step * SLOT
                index -= per_day
            day += timedelta(days=1)

    def window(self) -> dict[str, str]:
        """A week from the Monday on or after ``base``: it holds ``calendar``'s appointments."""
        monday = _monday_on_or_after(self.base)
        return {"from": iso(monday), "to": iso(monday + WINDOW)}

    # ------------------------------------------------------------------ pools of records to act on
    def booking(self, *, start: datetime | None = None, patient: str | None = None) -> Req:
        body = {
            "doctor_id": self.doctor,
            "patient_id": patient or self.patient(),
            "start": iso(start or self.slot()),
            "duration_minutes": 15,
        }
        return Req("BookAppointment", "POST", "/appointments", body=body, expect=201)

    def booked(self) -> dict[str, Any]:
        return self.create(self.booking())

    def series_booking(self) -> Req:
        body = {
            "doctor_id": self.series_doctor,
            "patient_id": self.patient(),
            "start": iso(self.series_start()),
            "repeat": {"every_weeks": 1, "count": 2},
        }
        return Req("BookSeries", "POST", "/appointment-series", body=body, expect=201)

    def typed_booking(self) -> Req:
        body = {
            "doctor_id": self.typed_doctor,
            "patient_id": self.patient(),
            "start": iso(self.far_slot(TYPED_FIRST_DAY, next(self._typed), TYPED_STEP)),
            "appointment_type": APPOINTMENT_TYPE["code"],
        }
        return Req("BookAppointment", "POST", "/appointments", body=body, expect=201)

    def hold_placing(self) -> Req:
        body = {
            "doctor_id": self.hold_doctor,
            "patient_id": self.patient(),
            "start": iso(self.far_slot(HOLD_FIRST_DAY, next(self._holds))),
            "duration_minutes": 15,
        }
        return Req("PlaceHold", "POST", "/holds", body=body, expect=201)

    def held(self) -> str:
        """A fresh hold (status ``held``), its id."""
        return self.create(self.hold_placing())["id"]

    def waitlist_joining(self, patient: str | None = None) -> Req:
        start = self.base + timedelta(days=next(self._waitlist) % 30)
        body = {
            "doctor_id": self.waitlist_doctor,
            "patient_id": patient or self.patient(),
            "from": iso(start),
            "to": iso(start + timedelta(days=WAITLIST_DAYS)),
            "duration_minutes": 15,
        }
        return Req("JoinWaitlist", "POST", "/waitlist", body=body, expect=201)

    def waiting(self, patient: str | None = None) -> str:
        """A fresh waitlist entry (status ``waiting``), its id."""
        return self.create(self.waitlist_joining(patient))["id"]

    def time_off(self) -> Req:
        day = self.base + timedelta(days=TIME_OFF_FIRST_DAY + next(self._time_off) % 60)
        body = {"start": iso(day), "end": iso(day + timedelta(hours=1)), "kind": "vacation"}
        return Req(
            "CreateTimeOff",
            "POST",
            "/doctors/{doctor_id}/time-off",
            {"doctor_id": self.away_doctor},
            body=body,
            expect=201,
        )

    @cached_property
    def calendar(self) -> dict[str, Any]:
        """What the reads look at, and nothing changes: a doctor with CALENDAR_PATIENTS patients, each
        with two appointments in the window (the schedule's audit then names several patients)."""
        doctor = self.new_doctor()
        patients = [self.new_patient() for _ in range(CALENDAR_PATIENTS)]
        appointments = []
        for i in range(2 * CALENDAR_PATIENTS):
            start = _monday_on_or_after(self.base) + timedelta(hours=DAY_START) + i * SLOT
            body = {
                "doctor_id": doctor,
                "patient_id": patients[i % CALENDAR_PATIENTS],
                "start": iso(start),
                "duration_minutes": 15,
            }
            booked = self.create(Req("BookAppointment", "POST", "/appointments", body=body, expect=201))
            appointments.append(booked["id"])
        return {"doctor": doctor, "patient": patients[0], "patients": patients, "appointment": appointments[0]}

    @cached_property
    def holiday(self) -> str:
        """One time off of ``away_doctor``, for ListTimeOff to find."""
        return self.create(self.time_off())["id"]

    @cached_property
    def series(self) -> str:
        return self.create(self.series_booking())["id"]

    @cached_property
    def hold(self) -> str:
        """One hold, for GetHold to read (it reads the same whether held or, after HOLD_MINUTES, expired)."""
        return self.held()

    @cached_property
    def waitlist(self) -> dict[str, str]:
        """The calendar's patient on the waitlist twice: one entry for GetWaitlistEntry to read, two for
        PatientWaitlist to list."""
        patient = self.calendar["patient"]
        return {"patient": patient, "entry": self.waiting(patient), "other": self.waiting(patient)}

    # ------------------------------------------------------------------ one request per route
    def requests(self, function: str, n: int) -> list[Req]:
        """``n`` requests of ``function``'s route (or of a variant in VARIANTS), each of which succeeds once.
        ``<name>+key``: ``<name>``'s requests, each with an Idempotency-Key of its own."""
        if function.endswith("+key"):
            return [req.keyed() for req in self.requests(function.removesuffix("+key"), n)]
        factory = self._factories()[function]
        for need in _NEEDS.get(VARIANTS.get(function, function), ()):
            getattr(self, need)  # what a read must find is there before the first request
        return [factory() for _ in range(n)]

    def _factories(self) -> dict[str, Callable[[], Req]]:
        me = self

        def read(
            function: str, resource: str, params: dict[str, str] | None = None, query: dict[str, str] | None = None
        ) -> Callable[[], Req]:
            return lambda: Req(function, "GET", resource, dict(params or {}), dict(query or {}))

        return {
            "Health": lambda: Req("Health", "GET", "/health", caller=None),
            "RegisterPatient": lambda: Req(
                "RegisterPatient",
                "POST",
                "/patients",
                expect=201,
                body={
                    "given_name": "Bench",
                    "family_name": f"Bench{next(me._names)}",
                    "birth_date": "1990-01-01",
                    "sex": "unknown",
                },
            ),
            "ListPatients": lambda: Req("ListPatients", "GET", "/patients", query={"limit": "10"}),
            "SearchPatients": lambda: Req(
                "SearchPatients", "POST", "/patients/search", body={"family_name_prefix": "bench", "limit": 10}
            ),
            "GetPatient": lambda: read(
                "GetPatient", "/patients/{patient_id}", {"patient_id": me.calendar["patient"]}
            )(),
            "UpdatePatient": lambda: Req(
                "UpdatePatient",
                "PATCH",
                "/patients/{patient_id}",
                {"patient_id": me.patients[-1]},
                body={"phone": "+15555550199"},
            ),
            "PatientAppointments": lambda: read(
                "PatientAppointments",
                "/patients/{patient_id}/appointments",
                {"patient_id": me.calendar["patient"]},
                {**me.window(), "limit": "100"},
            )(),
            "PatientAccessLog": lambda: read(
                "PatientAccessLog",
                "/patients/{patient_id}/access-log",
                {"patient_id": me.calendar["patient"]},
                {"limit": "20"},
            )(),
            "CreateDoctor": lambda: Req(
                "CreateDoctor",
                "POST",
                "/doctors",
                expect=201,
                body={
                    "given_name": "Bench",
                    "family_name": f"Doctor{next(me._names)}",
                    "specialty": "Benchmarks",
                    "time_zone": "UTC",
                    "slot_minutes": 15,
                    "working_hours": WORKING_HOURS,
                },
            ),
            "ListDoctors": read("ListDoctors", "/doctors"),
            "GetDoctor": lambda: read("GetDoctor", "/doctors/{doctor_id}", {"doctor_id": me.calendar["doctor"]})(),
            "UpdateDoctor": lambda: Req(
                "UpdateDoctor",
                "PATCH",
                "/doctors/{doctor_id}",
                {"doctor_id": me.spare_doctor},
                body={"specialty": "Benchmarks"},
            ),
            "DoctorSchedule": lambda: read(
                "DoctorSchedule",
                "/doctors/{doctor_id}/schedule",
                {"doctor_id": me.calendar["doctor"]},
                {**me.window(), "limit": "100"},
            )(),
            "DoctorAvailability": lambda: read(
                "DoctorAvailability",
                "/doctors/{doctor_id}/availability",
                {"doctor_id": me.calendar["doctor"]},
                me.window(),
            )(),
            "CreateTimeOff": me.time_off,
            "ListTimeOff": lambda: read(
                "ListTimeOff",
                "/doctors/{doctor_id}/time-off",
                {"doctor_id": me.away_doctor},
                {
                    "from": iso(me.base + timedelta(days=TIME_OFF_FIRST_DAY - 10)),
                    "to": iso(me.base + timedelta(days=TIME_OFF_FIRST_DAY + 60)),
                },
            )(),
            "DeleteTimeOff": lambda: Req(
                "DeleteTimeOff",
                "DELETE",
                "/doctors/{doctor_id}/time-off/{time_off_id}",
                {"doctor_id": me.away_doctor, "time_off_id": me.create(me.time_off())["id"]},
                expect=204,
            ),
            "GetSettings": read("GetSettings", "/settings"),
            "UpdateSettings": lambda: Req("UpdateSettings", "PATCH", "/settings", body={"reminder_lead_minutes": 1440}),
            "BookAppointment": lambda: me.booking(),
            "GetAppointment": lambda: read(
                "GetAppointment", "/appointments/{appointment_id}", {"appointment_id": me.calendar["appointment"]}
            )(),
            "UpdateAppointment": lambda: Req(
                "UpdateAppointment",
                "PATCH",
                "/appointments/{appointment_id}",
                {"appointment_id": me.booked()["id"]},
                body={"start": iso(me.slot())},
            ),
            "CancelAppointment": lambda: Req(
                "CancelAppointment",
                "POST",
                "/appointments/{appointment_id}/cancel",
                {"appointment_id": me.booked()["id"]},
                body={"reason": "bench"},
            ),
            "BookSeries": me.series_booking,
            "GetSeries": lambda: read("GetSeries", "/appointment-series/{series_id}", {"series_id": me.series})(),
            "CancelSeries": lambda: Req(
                "CancelSeries",
                "POST",
                "/appointment-series/{series_id}/cancel",
                {"series_id": me.create(me.series_booking())["id"]},
                body={"reason": "bench"},
            ),
            # holds: each on a slot of its own of hold_doctor; a confirm and a release each need a fresh hold
            "PlaceHold": me.hold_placing,
            "GetHold": lambda: read("GetHold", "/holds/{hold_id}", {"hold_id": me.hold})(),
            "ConfirmHold": lambda: Req(
                "ConfirmHold",
                "POST",
                "/holds/{hold_id}/confirm",
                {"hold_id": me.held()},
                body={"reason": "bench"},
                expect=201,
            ),
            "ReleaseHold": lambda: Req("ReleaseHold", "DELETE", "/holds/{hold_id}", {"hold_id": me.held()}, expect=204),
            # waitlist: entries of waitlist_doctor, never offered; leaving needs a fresh entry
            "JoinWaitlist": me.waitlist_joining,
            "GetWaitlistEntry": lambda: read(
                "GetWaitlistEntry", "/waitlist/{entry_id}", {"entry_id": me.waitlist["entry"]}
            )(),
            "LeaveWaitlist": lambda: Req(
                "LeaveWaitlist", "DELETE", "/waitlist/{entry_id}", {"entry_id": me.waiting()}, expect=204
            ),
            "PatientWaitlist": lambda: read(
                "PatientWaitlist",
                "/patients/{patient_id}/waitlist",
                {"patient_id": me.waitlist["patient"]},
                {"limit": "100"},
            )(),
            # the FHIR view: each read or search of the calendar, as its native twin reads it
            "FhirMetadata": lambda: Req("FhirMetadata", "GET", "/fhir/metadata", caller=None),
            "FhirReadPatient": lambda: read(
                "FhirReadPatient", "/fhir/Patient/{patient_id}", {"patient_id": me.calendar["patient"]}
            )(),
            "FhirReadPractitioner": lambda: read(
                "FhirReadPractitioner", "/fhir/Practitioner/{doctor_id}", {"doctor_id": me.calendar["doctor"]}
            )(),
            "FhirReadSchedule": lambda: read(
                "FhirReadSchedule", "/fhir/Schedule/{doctor_id}", {"doctor_id": me.calendar["doctor"]}
            )(),
            "FhirSearchSchedule": lambda: read(
                "FhirSearchSchedule", "/fhir/Schedule", {}, {"actor": f"Practitioner/{me.calendar['doctor']}"}
            )(),
            "FhirSearchSlot": lambda: read(
                "FhirSearchSlot",
                "/fhir/Slot",
                {},
                {"schedule": f"Schedule/{me.calendar['doctor']}", "start": me.fhir_window(), "_count": "100"},
            )(),
            "FhirReadAppointment": lambda: read(
                "FhirReadAppointment",
                "/fhir/Appointment/{appointment_id}",
                {"appointment_id": me.calendar["appointment"]},
            )(),
            "FhirSearchAppointment": lambda: read(
                "FhirSearchAppointment",
                "/fhir/Appointment",
                {},
                {"patient": f"Patient/{me.calendar['patient']}", "date": me.fhir_window(), "_count": "100"},
            )(),
            "FhirReadLocation": lambda: read(
                "FhirReadLocation", "/fhir/Location/{location_id}", {"location_id": me.site}
            )(),
            "FhirSearchLocation": lambda: read(
                "FhirSearchLocation", "/fhir/Location", {}, {"partof": f"Location/{me.site}", "_count": "20"}
            )(),
            "FhirReadDevice": lambda: read("FhirReadDevice", "/fhir/Device/{device_id}", {"device_id": me.device})(),
            "FhirAppointmentOperation": me.fhir_find,
            # locations, rooms and equipment
            "CreateLocation": lambda: Req(
                "CreateLocation",
                "POST",
                "/locations",
                expect=201,
                body={"name": f"Bench site {next(me._names)}", "time_zone": "UTC"},
            ),
            "ListLocations": read("ListLocations", "/locations", query={"limit": "20"}),
            "GetLocation": lambda: read("GetLocation", "/locations/{location_id}", {"location_id": me.site})(),
            "UpdateLocation": lambda: Req(
                "UpdateLocation",
                "PATCH",
                "/locations/{location_id}",
                {"location_id": me.other_site},
                body={"phone": "+15555550100"},
            ),
            "CreateResource": lambda: Req(
                "CreateResource",
                "POST",
                "/resources",
                expect=201,
                body={
                    "location_id": me.site,
                    "name": f"Room {next(me._names)}",
                    "kind": "exam-room",
                    "category": "room",
                },
            ),
            "ListResources": lambda: read(
                "ListResources", "/resources", query={"location_id": me.site, "limit": "20"}
            )(),
            "GetResource": lambda: read("GetResource", "/resources/{resource_id}", {"resource_id": me.room})(),
            "UpdateResource": lambda: Req(
                "UpdateResource",
                "PATCH",
                "/resources/{resource_id}",
                {"resource_id": me.room},
                body={"name": "Bench room"},
            ),
            # across doctors, a location's day, a room's schedule (v1.2)
            "EarliestAvailability": lambda: read(
                "EarliestAvailability", "/availability", {}, {**me.window(), "location_id": me.site, "limit": "20"}
            )(),
            "LocationDay": lambda: read(
                "LocationDay",
                "/locations/{location_id}/day",
                {"location_id": me.site},
                {"date": me.window()["from"][:10]},
            )(),
            "ResourceSchedule": lambda: read(
                "ResourceSchedule", "/resources/{resource_id}/schedule", {"resource_id": me.room}, me.window()
            )(),
            # variants (VARIANTS): another request of the same route
            "BookAppointment+type": me.typed_booking,
            "BookAppointment+room": me.room_booking,
            "CreateDoctor+location": lambda: Req(
                "CreateDoctor",
                "POST",
                "/doctors",
                expect=201,
                body={
                    "given_name": "Bench",
                    "family_name": f"Doctor{next(me._names)}",
                    "specialty": "Benchmarks",
                    "time_zone": "UTC",
                    "working_hours": hours_at(me.site),
                },
            ),
            "UpdateDoctor+location": me.move,
            "ListDoctors+location": me.doctors_at_site,
            "FhirAppointmentOperation+hold": me.fhir_hold,
            "FhirAppointmentOperation+book": me.fhir_book,
            "FhirAppointmentOperation+confirm": me.fhir_confirm,
            "FhirAppointmentOperation+cancel": me.fhir_cancel,
            "FhirSearchAppointment+practitioner": lambda: read(
                "FhirSearchAppointment",
                "/fhir/Appointment",
                {},
                {"practitioner": f"Practitioner/{me.calendar['doctor']}", "date": me.fhir_window(), "_count": "100"},
            )(),
        }

    # ------------------------------------------------------------------ the FHIR scheduling operations
    def fhir_operation(self, operation: str, parameters: list[dict[str, Any]]) -> Req:
        body = {"resourceType": "Parameters", "parameter": parameters}
        return Req(
            "FhirAppointmentOperation",
            "POST",
            "/fhir/Appointment/{appointment_id}",
            {"appointment_id": operation},
            body=body,
        )

    def fhir_find(self) -> Req:
        """$find at ``site`` over ``window()``: GET /availability's query, with the total."""
        window = self.window()
        return self.fhir_operation(
            "$find",
            [
                {"name": "start", "valueDateTime": window["from"]},
                {"name": "end", "valueDateTime": window["to"]},
                {"name": "location", "valueReference": {"reference": f"Location/{self.site}"}},
                {"name": "_count", "valueInteger": 20},
            ],
        )

    def _proposal(self, doctor: str, start: datetime, patient: str) -> dict[str, Any]:
        return {
            "resourceType": "Appointment",
            "status": "proposed",
            "start": iso(start),
            "end": iso(start + SLOT),
            "participant": [
                {"actor": {"reference": f"Practitioner/{doctor}"}, "status": "needs-action"},
                {"actor": {"reference": f"Patient/{patient}"}, "status": "accepted"},
            ],
        }

    def fhir_hold(self) -> Req:
        """$hold of a proposed time of ``hold_doctor`` (the holds' own days, as PlaceHold's)."""
        start = self.far_slot(HOLD_FIRST_DAY, next(self._holds))
        proposal = self._proposal(self.hold_doctor, start, self.patient())
        return self.fhir_operation("$hold", [{"name": "appointment", "resource": proposal}])

    def fhir_book(self) -> Req:
        """$book of a proposed time of ``doctor`` with its patient: POST /appointments's booking."""
        proposal = self._proposal(self.doctor, self.slot(), self.patient())
        return self.fhir_operation("$book", [{"name": "appointment", "resource": proposal}])

    def fhir_confirm(self) -> Req:
        """$book of a pending Appointment: a fresh hold, confirmed."""
        pending = {"resourceType": "Appointment", "id": self.held(), "status": "pending"}
        return self.fhir_operation("$book", [{"name": "appointment", "resource": pending}])

    def fhir_cancel(self) -> Req:
        """$book of a booked Appointment sent back cancelled: POST /appointments/{id}/cancel."""
        booked = self.booked()
        sent_back = {
            "resourceType": "Appointment",
            "id": booked["id"],
            "status": "cancelled",
            "cancelationReason": {"text": "bench"},
        }
        return self.fhir_operation("$book", [{"name": "appointment", "resource": sent_back}])

    def fhir_window(self) -> list[str]:
        """``window()`` as FHIR date bounds: [ge<from>, lt<to>] (the parameter repeated)."""
        window = self.window()
        return [f"ge{window['from']}", f"lt{window['to']}"]


# Variants: requests of a route measured on rows of their own (name → the route's function). A keyed
# request is any request with an Idempotency-Key (Req.keyed), so "+key" variants need no factory.
VARIANTS: dict[str, str] = {
    "BookAppointment+key": "BookAppointment",
    "BookAppointment+type": "BookAppointment",  # by appointment type: a 30-minute type with buffers
    "BookAppointment+room": "BookAppointment",  # a type that needs an exam room: one read to choose it
    "FhirSearchAppointment+practitioner": "FhirSearchAppointment",  # the twin of DoctorSchedule
    "CreateDoctor+location": "CreateDoctor",  # hours at a location: checked, and the location's doctors joined
    "UpdateDoctor+location": "UpdateDoctor",  # hours moved to another location: one left, one joined
    "ListDoctors+location": "ListDoctors",  # ?location_id=: the location's doctors
    "FhirAppointmentOperation+hold": "FhirAppointmentOperation",  # $hold: POST /holds's
    "FhirAppointmentOperation+book": "FhirAppointmentOperation",  # $book of a proposal: POST /appointments's
    "FhirAppointmentOperation+confirm": "FhirAppointmentOperation",  # $book of a pending one: the hold confirmed
    "FhirAppointmentOperation+cancel": "FhirAppointmentOperation",  # $book of a booked one sent back cancelled
}

# What a route's reads must find, so that they read something (a list of no patients costs less).
_NEEDS: dict[str, tuple[str, ...]] = {
    "ListPatients": ("patients", "calendar"),
    "SearchPatients": ("patients", "calendar"),
    "ListDoctors": ("doctor",),
    "ListTimeOff": ("holiday",),
    "GetSettings": (),
    "Health": (),
    "PatientWaitlist": ("waitlist",),
    "ListLocations": ("site", "other_site"),
    "ListResources": ("room",),
    "EarliestAvailability": ("sited_doctor", "room_doctor"),
    "LocationDay": ("sited_doctor", "room"),
    "ResourceSchedule": ("room",),
    "FhirAppointmentOperation": ("sited_doctor", "room_doctor"),
    "FhirSearchLocation": ("room",),
    "FhirAppointmentOperation+hold": ("hold_doctor",),  # the clinic's hold_minutes set before any hold
}


def missing_factories() -> list[str]:
    """Routes declared in clinic.routes that World cannot build a request for."""
    from clinic import routes

    known = World(lambda req: (0, None))._factories()
    return [route.function for route in routes.ROUTES if route.function not in known]
