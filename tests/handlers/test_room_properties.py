"""Property-based, the booking model with locations and resources (v1.2): random sequences of bookings
(the first free room, or one chosen), holds, confirms, releases, reschedules, cancels and rooms taken
out of service and back, at two locations, against a small in-memory reference model. After every
step:

- no doctor, patient or resource has two overlapping occupied intervals (buffers included for the
  doctor and the resources), in storage as in the model, and storage agrees with the model (status,
  time, location, the rooms held);
- each doctor's availability offers exactly the starts the model would book (for a patient who is
  free): working hours at a location, the doctor's time and a free active resource of each kind;
- the earliest-availability search answers exactly the union of the doctors' own availability.

The reference model decides, at one occurrence, in the contract's order: the booking rules (422), the
doctor's time (409 SLOT_UNAVAILABLE), the patient's (PATIENT_UNAVAILABLE), a resource of each kind
(RESOURCE_UNAVAILABLE); the first free resource is the first active one by name."""

from __future__ import annotations

import os
from datetime import datetime, timedelta

import boto3
import hypothesis.strategies as st
from hypothesis import HealthCheck, settings
from hypothesis.stateful import Bundle, RuleBasedStateMachine, consumes, invariant, rule
from moto import mock_aws

from clinic.identity import Caller
from local_stack import template as tpl
from local_stack.tables import ensure_tables
from tests import days

STAFF = Caller(sub="room-property-test", groups=frozenset({"staff"}))
SLOT = 15
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
VISIT = {
    "code": "visit",
    "name": "Visit",
    "duration_minutes": 30,
    "buffer_after_minutes": 15,
    "resource_kinds": ["room"],
}
SCAN = {"code": "scan", "name": "Scan", "duration_minutes": 30, "resource_kinds": ["room", "echo"]}
TYPES = {"visit": VISIT, "scan": SCAN}


class RoomBooking(RuleBasedStateMachine):
    appointments = Bundle("appointments")
    holds = Bundle("holds")

    def __init__(self) -> None:
        super().__init__()
        self._saved_env = dict(os.environ)
        os.environ.update(
            {
                "AWS_ACCESS_KEY_ID": "t",
                "AWS_SECRET_ACCESS_KEY": "t",
                "AWS_DEFAULT_REGION": "us-east-1",
                "POWERTOOLS_TRACE_DISABLED": "true",
                "PAGINATION_SECRET": "t",
            }
        )
        os.environ.pop("AWS_ENDPOINT_URL_DYNAMODB", None)
        for function in tpl.functions():
            os.environ.update({k: v for k, v in function.environment.items() if k.endswith("_TABLE")})
        self.mock = mock_aws()
        self.mock.start()
        ensure_tables(boto3.client("dynamodb", region_name="us-east-1"))
        from clinic.config import settings as clinic_config
        from clinic.data import dynamo
        from clinic.models.doctors import DoctorCreate
        from clinic.models.locations import LocationCreate
        from clinic.models.patients import PatientCreate
        from clinic.models.resources import ResourceCreate
        from clinic.models.settings import SettingsUpdate
        from clinic.services import allocation, clinic_settings, doctors, locations, patients, resources

        clinic_config.cache_clear()
        dynamo.resource.cache_clear()
        doctors.forget()
        clinic_settings.forget()
        allocation.forget()
        clinic_settings.update(
            SettingsUpdate(max_holds_per_patient=20, max_open_appointments_per_patient=50, hold_minutes=60)
        )
        self.sites = [locations.create(LocationCreate(name=f"Site {i}", time_zone="UTC"))["id"] for i in range(2)]
        self.rooms: dict[str, dict] = {}  # id → {location, kind, name, active}
        for location, kind, name in (
            (self.sites[0], "room", "Room 2"),
            (self.sites[0], "room", "Room 1"),
            (self.sites[0], "echo", "Echo"),
            (self.sites[1], "room", "Room 3"),
        ):
            made = resources.create(
                ResourceCreate(
                    location_id=location, name=name, kind=kind, category="room" if kind == "room" else "equipment"
                )
            )
            self.rooms[made["id"]] = {"location": location, "kind": kind, "name": name, "active": True}
        hours = {
            d: [
                {"start": "08:00", "end": "12:00", "location_id": self.sites[0]},
                {"start": "13:00", "end": "16:00", "location_id": self.sites[1]},
            ]
            for d in DAYS
        }
        self.doctors = [
            doctors.create(
                DoctorCreate(
                    given_name="D",
                    family_name=str(i),
                    specialty="x",
                    time_zone="UTC",
                    slot_minutes=SLOT,
                    working_hours=hours if i == 0 else {d: hours[d][:1] for d in DAYS},
                    appointment_types=[VISIT, SCAN],
                )
            )["id"]
            for i in range(2)
        ]
        self.patients = [
            patients.register(PatientCreate(given_name="P", family_name=str(i), birth_date="1990-01-01", sex="other"))[
                "id"
            ]
            for i in range(3)
        ]
        self.base = days.midnight()
        self.model: dict[
            str, dict
        ] = {}  # record id → kind, doctor, patient, start, end, after, location, rooms, status

    def teardown(self) -> None:
        self.mock.stop()
        os.environ.clear()
        os.environ.update(self._saved_env)

    # ---------------------------------------------------------------- the reference model
    def _start(self, slot: int) -> datetime:
        return self.base + timedelta(hours=8, minutes=SLOT * slot)  # 08:00 .. 15:45

    def _location(self, doctor: str, start: datetime, end: datetime) -> str | bool | None:
        """The location of the working interval [start, end) lies in; False if none holds it."""
        spans = [(8, 12, self.sites[0])] + ([(13, 16, self.sites[1])] if doctor == self.doctors[0] else [])
        for first, last, location in spans:
            if self.base + timedelta(hours=first) <= start and end <= self.base + timedelta(hours=last):
                return location
        return False

    def _live(self, exclude: str | None = None) -> list[dict]:
        return [r for i, r in self.model.items() if r["status"] in ("booked", "held") and i != exclude]

    @staticmethod
    def _occupied(record: dict) -> tuple[datetime, datetime]:
        return record["start"], record["end"] + timedelta(minutes=record["after"])

    @staticmethod
    def _overlap(a: tuple, b: tuple) -> bool:
        return a[0] < b[1] and b[0] < a[1]

    def _free_rooms(self, location: str, kind: str, occupied: tuple, exclude: str | None) -> list[str]:
        busy = {room for r in self._live(exclude) if self._overlap(self._occupied(r), occupied) for room in r["rooms"]}
        return [
            room
            for room, info in sorted(self.rooms.items(), key=lambda kv: kv[1]["name"])
            if info["location"] == location and info["kind"] == kind and info["active"] and room not in busy
        ]

    def _decide(self, doctor, patient, start, type_code, exclude=None, keep=()):
        """(error code or None, the record the write makes)."""
        kind = TYPES[type_code]
        end = start + timedelta(minutes=kind["duration_minutes"])
        location = self._location(doctor, start, end)
        if location is False:
            return "OUTSIDE_WORKING_HOURS", None
        record = {
            "doctor": doctor,
            "patient": patient,
            "start": start,
            "end": end,
            "after": kind.get("buffer_after_minutes", 0),
            "location": location,
            "type": type_code,
        }
        occupied = self._occupied(record)
        live = self._live(exclude)
        if any(r["doctor"] == doctor and self._overlap(self._occupied(r), occupied) for r in live):
            return "SLOT_UNAVAILABLE", None
        if any(r["patient"] == patient and self._overlap((r["start"], r["end"]), (start, end)) for r in live):
            return "PATIENT_UNAVAILABLE", None
        rooms = []
        for needed in kind["resource_kinds"]:
            free = self._free_rooms(location, needed, occupied, exclude)
            kept = [r for r in keep if r in free]
            if not free:
                return "RESOURCE_UNAVAILABLE", None
            rooms.append(kept[0] if kept else free[0])
        return None, {**record, "rooms": rooms}

    # ---------------------------------------------------------------- rules
    @rule(
        target=appointments,
        doctor=st.integers(0, 1),
        patient=st.integers(0, 2),
        slot=st.integers(0, 31),
        type_code=st.sampled_from(["visit", "scan"]),
    )
    def book(self, doctor, patient, slot, type_code):
        from clinic.errors import ApiError
        from clinic.models.appointments import AppointmentCreate
        from clinic.services import appointments

        start = self._start(slot)
        expected, record = self._decide(self.doctors[doctor], self.patients[patient], start, type_code)
        request = AppointmentCreate(
            doctor_id=self.doctors[doctor], patient_id=self.patients[patient], start=start, appointment_type=type_code
        )
        try:
            made = appointments.book(request, STAFF)
        except ApiError as error:
            assert error.code == expected, (error.code, expected)
            return None
        assert expected is None, expected
        assert [r["id"] for r in made["resources"]] == record["rooms"], (made["resources"], record)
        self.model[made["id"]] = {**record, "status": "booked"}
        return made["id"]

    @rule(
        target=holds,
        doctor=st.integers(0, 1),
        patient=st.integers(0, 2),
        slot=st.integers(0, 31),
        type_code=st.sampled_from(["visit", "scan"]),
    )
    def hold(self, doctor, patient, slot, type_code):
        from clinic.errors import ApiError
        from clinic.models.holds import HoldCreate
        from clinic.services import holds

        start = self._start(slot)
        expected, record = self._decide(self.doctors[doctor], self.patients[patient], start, type_code)
        request = HoldCreate(
            doctor_id=self.doctors[doctor], patient_id=self.patients[patient], start=start, appointment_type=type_code
        )
        try:
            made = holds.place(request, STAFF)
        except ApiError as error:
            assert error.code == expected, (error.code, expected)
            return None
        assert expected is None, expected
        assert [r["id"] for r in made["resources"]] == record["rooms"]
        self.model[made["id"]] = {**record, "status": "held"}
        return made["id"]

    @rule(target=appointments, hold=consumes(holds))
    def confirm(self, hold):
        from clinic.models.holds import HoldConfirm
        from clinic.services import holds

        if hold is None or self.model[hold]["status"] != "held":
            return None
        made = holds.confirm(hold, HoldConfirm(), STAFF)
        assert [r["id"] for r in made["resources"]] == self.model[hold]["rooms"]
        self.model[made["id"]] = {**self.model[hold], "status": "booked"}
        self.model[hold]["status"] = "confirmed"
        return made["id"]

    @rule(hold=consumes(holds))
    def release(self, hold):
        from clinic.services import holds

        if hold is None or self.model[hold]["status"] != "held":
            return
        holds.release(hold, STAFF)
        self.model[hold]["status"] = "released"

    @rule(appointment=appointments, slot=st.integers(0, 31))
    def reschedule(self, appointment, slot):
        from clinic.errors import ApiError
        from clinic.models.appointments import AppointmentUpdate
        from clinic.services import appointments

        if appointment is None or self.model[appointment]["status"] != "booked":
            return
        current = self.model[appointment]
        start = self._start(slot)
        expected, record = self._decide(
            current["doctor"], current["patient"], start, current["type"], exclude=appointment, keep=current["rooms"]
        )
        try:
            moved = appointments.update(appointment, AppointmentUpdate(start=start), STAFF)[0]
        except ApiError as error:
            assert error.code == expected, (error.code, expected)
            return
        assert expected is None, expected
        assert [r["id"] for r in moved["resources"]] == record["rooms"], (moved["resources"], record["rooms"])
        self.model[appointment] = {**record, "status": "booked"}

    @rule(appointment=consumes(appointments))
    def cancel(self, appointment):
        from clinic.models.appointments import CancelRequest
        from clinic.services import appointments

        if appointment is None or self.model[appointment]["status"] != "booked":
            return
        appointments.cancel(appointment, CancelRequest(reason="r"), STAFF)
        self.model[appointment]["status"] = "cancelled"

    @rule(room=st.integers(0, 3), active=st.booleans())
    def room_in_service(self, room, active):
        from clinic.models.resources import ResourceUpdate
        from clinic.services import resources

        room_id = sorted(self.rooms)[room]
        resources.update(room_id, ResourceUpdate(active=active))
        self.rooms[room_id]["active"] = active

    # ---------------------------------------------------------------- invariants
    @invariant()
    def nobody_and_nothing_is_in_two_places_and_storage_agrees(self):
        from clinic.services import appointments, holds

        live = self._live()
        for i, a in enumerate(live):
            for b in live[i + 1 :]:
                both = self._overlap(self._occupied(a), self._occupied(b))
                assert not (a["doctor"] == b["doctor"] and both)
                assert not (
                    a["patient"] == b["patient"] and self._overlap((a["start"], a["end"]), (b["start"], b["end"]))
                )
                assert not (set(a["rooms"]) & set(b["rooms"]) and both)
        for record_id, record in self.model.items():
            stored = holds.get(record_id, STAFF) if record["status"] in ("held", "released", "confirmed") else None
            if stored is None:
                stored = appointments.get(record_id, STAFF)
            assert stored["status"] == record["status"], (stored, record)
            assert stored["start"] == record["start"].strftime("%Y-%m-%dT%H:%M:%SZ")
            assert stored["location_id"] == record["location"]
            assert [r["id"] for r in stored["resources"]] == record["rooms"]

    @invariant()
    def availability_offers_exactly_what_a_booking_would_take(self):
        from clinic.services import appointments, availability

        window = (self.base, self.base + timedelta(days=1))
        union = []
        for doctor in self.doctors:
            for type_code in ("visit", "scan"):
                offered = [s["start"] for s in appointments.availability(doctor, *window, type_code, STAFF)["slots"]]
                expected = []
                for slot in range(32):
                    start = self._start(slot)
                    # a patient who is free: the model's answer without the patient
                    error, _ = self._decide(doctor, "nobody", start, type_code)
                    if error is None:
                        expected.append(start.strftime("%Y-%m-%dT%H:%M:%SZ"))
                assert offered == expected, (doctor, type_code, offered, expected)
                if type_code == "visit":
                    union += [(s, doctor) for s in offered]
        searched = availability.search(
            *window,
            specialty=None,
            location_id=None,
            type_code="visit",
            limit=100,
            next_token=None,
            who=STAFF,
        )
        assert [(i["start"], i["doctor_id"]) for i in searched["items"]] == sorted(union)


RoomBooking.TestCase.settings = settings(
    max_examples=15, stateful_step_count=12, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
TestRoomBookingModel = RoomBooking.TestCase
