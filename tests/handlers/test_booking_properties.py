"""Property-based: random sequences of bookings (plain, typed with buffers, weekly series), cancels,
reschedules, status changes and time off, against a small in-memory reference model. After every
step the stored appointments, slot locks, open-appointment counts and doctor–patient links agree
with each other and with the model, and no doctor's occupied intervals (buffers included) or
patient's appointments ever overlap."""

from __future__ import annotations

import os
from datetime import timedelta

import boto3
import hypothesis.strategies as st
from boto3.dynamodb.types import TypeDeserializer
from hypothesis import HealthCheck, settings
from hypothesis.stateful import Bundle, RuleBasedStateMachine, consumes, invariant, precondition, rule
from moto import mock_aws

from clinic.identity import Caller
from local_stack import template as tpl
from local_stack.tables import ensure_tables
from tests import days

STAFF = Caller(sub="property-test", groups=frozenset({"staff"}))  # the property is about storage, not access
ALL_DAY = [{"start": "00:00", "end": "24:00"}]
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
SLOT = 15
LIMIT = 4  # the clinic's max_open_appointments_per_patient in this world
LONG = {
    "code": "long",
    "name": "Long visit",
    "duration_minutes": 30,
    "buffer_before_minutes": 5,
    "buffer_after_minutes": 10,
}
_unpack = TypeDeserializer().deserialize


class Booking(RuleBasedStateMachine):
    appointments = Bundle("appointments")
    absences = Bundle("absences")

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
        self.client = boto3.client("dynamodb", region_name="us-east-1")
        ensure_tables(self.client)
        from clinic.config import settings as clinic_config
        from clinic.data import dynamo
        from clinic.models.doctors import DoctorCreate
        from clinic.models.patients import PatientCreate
        from clinic.models.settings import SettingsUpdate
        from clinic.services import clinic_settings, doctors, patients

        clinic_config.cache_clear()
        dynamo.resource.cache_clear()
        doctors.forget()
        clinic_settings.forget()
        clinic_settings.update(SettingsUpdate(max_open_appointments_per_patient=LIMIT))
        self.doctors = [
            doctors.create(
                DoctorCreate(
                    given_name="D",
                    family_name=str(i),
                    specialty="x",
                    time_zone="UTC",
                    slot_minutes=SLOT,
                    working_hours=dict.fromkeys(DAYS, ALL_DAY),
                    appointment_types=[LONG] if i else [],
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
        self.base = days.midnight() + timedelta(hours=8)  # the doctors work in UTC, all day
        self.model: dict[str, dict] = {}  # id -> doctor, patient, start, end, before, after, status
        self.away: dict[str, dict] = {}  # time off id -> doctor, start, end

    def teardown(self) -> None:
        self.mock.stop()
        os.environ.clear()
        os.environ.update(self._saved_env)

    # ---------------------------------------------------------------- the reference model
    def _when(self, slot: int, slots: int, week: int = 0):
        start = self.base + timedelta(minutes=SLOT * slot, weeks=week)
        return start, start + timedelta(minutes=SLOT * slots)

    @staticmethod
    def _overlap(a_start, a_end, b_start, b_end) -> bool:
        return a_start < b_end and b_start < a_end

    def _occupied(self, a):  # what an appointment occupies for its doctor
        return a["start"] - timedelta(minutes=a["before"]), a["end"] + timedelta(minutes=a["after"])

    def _open(self, patient) -> int:
        return sum(1 for a in self.model.values() if a["patient"] == patient and a["status"] == "booked")

    def _refusal(self, wanted: list[dict], exclude: str | None = None) -> str | None:
        found = self._first_failure(wanted, exclude)
        return found[1] if found else None

    def _first_failure(self, wanted: list[dict], exclude: str | None = None) -> tuple[int, str] | None:
        """The contract's answer for booking ``wanted`` (one, or a series' occurrences) all or nothing: the
        lowest occurrence that cannot be booked for any reason (v1.2), and why; at one occurrence, its
        rules (time off) before its time (the doctor's, then the patient's) before the open limit."""
        holding = [a for i, a in self.model.items() if a["status"] != "cancelled" and i != exclude]
        failures = []  # (occurrence, precedence, code)
        for index, w in enumerate(wanted):
            if any(
                t["doctor"] == w["doctor"] and self._overlap(w["start"], w["end"], t["start"], t["end"])
                for t in self.away.values()
            ):
                failures.append((index, 0, "DOCTOR_AWAY"))
            if any(
                a["doctor"] == w["doctor"] and self._overlap(*self._occupied(w), *self._occupied(a)) for a in holding
            ):
                failures.append((index, 1, "SLOT_UNAVAILABLE"))
            if any(
                a["patient"] == w["patient"] and self._overlap(w["start"], w["end"], a["start"], a["end"])
                for a in holding
            ):
                failures.append((index, 2, "PATIENT_UNAVAILABLE"))
            if exclude is None and self._open(w["patient"]) + index + 1 > LIMIT:
                failures.append((index, 3, "TOO_MANY_APPOINTMENTS"))
        return (min(failures)[0], min(failures)[2]) if failures else None

    def _wanted(self, doctor, patient, start, end, typed: bool) -> dict:
        return {
            "doctor": doctor,
            "patient": patient,
            "start": start,
            "end": end,
            "before": LONG["buffer_before_minutes"] if typed else 0,
            "after": LONG["buffer_after_minutes"] if typed else 0,
            "status": "booked",
        }

    # ---------------------------------------------------------------- rules
    @rule(
        target=appointments,
        doctor=st.integers(0, 1),
        patient=st.integers(0, 2),
        slot=st.integers(0, 23),
        slots=st.integers(1, 4),
        typed=st.booleans(),
    )
    def book(self, doctor, patient, slot, slots, typed):
        from clinic.errors import ApiError
        from clinic.models.appointments import AppointmentCreate
        from clinic.services import appointments

        typed = typed and doctor == 1
        start, end = self._when(slot, 2 if typed else slots)
        wanted = self._wanted(self.doctors[doctor], self.patients[patient], start, end, typed)
        expected = self._refusal([wanted])
        request = AppointmentCreate(
            doctor_id=self.doctors[doctor],
            patient_id=self.patients[patient],
            start=start,
            **({"appointment_type": "long"} if typed else {"duration_minutes": SLOT * slots}),
        )
        try:
            made = appointments.book(request, STAFF)
        except ApiError as error:
            assert error.code == expected, (error.code, expected)
            return None
        assert expected is None, expected
        self.model[made["id"]] = wanted
        return made["id"]

    @rule(doctor=st.integers(0, 1), patient=st.integers(0, 2), slot=st.integers(0, 23), count=st.integers(2, 5))
    def book_series(self, doctor, patient, slot, count):
        from clinic.errors import ApiError
        from clinic.models.appointments import Repeat, SeriesCreate
        from clinic.services import appointments

        wanted = [
            self._wanted(self.doctors[doctor], self.patients[patient], *self._when(slot, 1, week), False)
            for week in range(count)
        ]
        first = self._first_failure(wanted)
        expected = first[1] if first else None
        try:
            made = appointments.book_series(
                SeriesCreate(
                    doctor_id=self.doctors[doctor],
                    patient_id=self.patients[patient],
                    start=wanted[0]["start"],
                    repeat=Repeat(every_weeks=1, count=count),
                ),
                STAFF,
            )
        except ApiError as error:
            assert error.code == expected, (error.code, expected)
            assert [e.field for e in error.errors] == [f"occurrences[{first[0]}].start"], (error.errors, first)
            return
        assert expected is None, expected
        assert [a["start"] for a in made["appointments"]] == [w["start"].strftime("%Y-%m-%dT%H:%M:%SZ") for w in wanted]
        for appointment, w in zip(made["appointments"], wanted, strict=True):
            self.model[appointment["id"]] = w

    @rule(appointment=consumes(appointments))
    def cancel(self, appointment):
        from clinic.errors import ApiError
        from clinic.models.appointments import CancelRequest
        from clinic.services import appointments

        if appointment is None:
            return
        try:
            appointments.cancel(appointment, CancelRequest(reason="r"), STAFF)
        except ApiError as error:
            assert error.code == "INVALID_TRANSITION" and self.model[appointment]["status"] != "booked"
            return
        assert self.model[appointment]["status"] == "booked"
        self.model[appointment]["status"] = "cancelled"

    @rule(appointment=appointments, status=st.sampled_from(["arrived", "fulfilled", "noshow"]))
    def change_status(self, appointment, status):
        from clinic.domain import lifecycle
        from clinic.errors import ApiError
        from clinic.models.appointments import AppointmentUpdate
        from clinic.services import appointments

        if appointment is None:
            return
        current = self.model[appointment]
        try:
            appointments.update(appointment, AppointmentUpdate(status=status), STAFF)
        except ApiError as error:
            assert error.code == "INVALID_TRANSITION" and not lifecycle.can_move(current["status"], status)
            return
        assert lifecycle.can_move(current["status"], status)
        current["status"] = status

    @rule(appointment=appointments, slot=st.integers(0, 23), slots=st.integers(1, 4))
    def reschedule(self, appointment, slot, slots):
        from clinic.errors import ApiError
        from clinic.models.appointments import AppointmentUpdate
        from clinic.services import appointments

        if appointment is None:
            return
        current = self.model[appointment]
        typed = bool(current["before"] or current["after"])
        start, end = self._when(
            slot, int((current["end"] - current["start"]).total_seconds() // 60) // SLOT if typed else slots
        )
        moved = {**current, "start": start, "end": end}
        expected = (
            "INVALID_TRANSITION" if current["status"] != "booked" else self._refusal([moved], exclude=appointment)
        )
        change = (
            AppointmentUpdate(start=start) if typed else AppointmentUpdate(start=start, duration_minutes=SLOT * slots)
        )
        try:
            appointments.update(appointment, change, STAFF)
        except ApiError as error:
            assert error.code == expected, (error.code, expected)
            return
        assert expected is None, expected
        current.update(start=start, end=end)

    @rule(target=absences, doctor=st.integers(0, 1), slot=st.integers(0, 23), slots=st.integers(1, 8))
    def take_time_off(self, doctor, slot, slots):
        from clinic.models.time_off import TimeOffCreate
        from clinic.services import time_off

        start, end = self._when(slot, slots)
        made = time_off.create(self.doctors[doctor], TimeOffCreate(start=start, end=end, kind="training"), STAFF)
        # every booked appointment it overlaps is named, and no other
        expected = sorted(
            i
            for i, a in self.model.items()
            if a["doctor"] == self.doctors[doctor]
            and a["status"] == "booked"
            and self._overlap(a["start"], a["end"], start, end)
        )
        assert sorted(a["id"] for a in made["affected_appointments"]) == expected
        self.away[made["id"]] = {"doctor": self.doctors[doctor], "start": start, "end": end}
        return made["id"]

    @precondition(lambda self: self.away)
    @rule(absence=consumes(absences))
    def end_time_off(self, absence):
        from clinic.services import time_off

        entry = self.away.pop(absence)
        time_off.delete(entry["doctor"], absence, STAFF)

    # ---------------------------------------------------------------- invariants
    @invariant()
    def stored_state_agrees_with_the_model_and_the_locks(self):
        from clinic.data import locks
        from clinic.data.appointments import Occupancy
        from clinic.data.dynamo import plain
        from clinic.domain import lifecycle

        stored = {}
        for raw in self._scan("APPOINTMENTS_TABLE"):
            item = plain({k: _unpack(v) for k, v in raw.items()})
            stored[item["id"]] = (item["status"], item["start_at"], item["end_at"])
        expected = {
            i: (a["status"], a["start"].strftime("%Y-%m-%dT%H:%M:%SZ"), a["end"].strftime("%Y-%m-%dT%H:%M:%SZ"))
            for i, a in self.model.items()
        }
        assert stored == expected

        held, counters = {}, {}
        for raw in self._scan("SLOT_LOCKS_TABLE"):
            item = plain({k: _unpack(v) for k, v in raw.items()})
            if item["hour"].startswith("#patient#"):  # a doctor–patient link: n, live, done
                if item.get("n") or item.get("live") or item.get("done"):
                    counters[(item["owner"], item["hour"])] = (item["n"], item["live"], item["done"])
                continue
            if item["hour"].startswith("#"):
                if item.get("n"):
                    counters[(item["owner"], item["hour"])] = item["n"]
                continue
            for attribute, value in item.items():
                if attribute.startswith("m") and len(attribute) == 3:
                    held[(item["owner"], item["hour"], attribute)] = value
        wanted, wanted_counters = {}, {}
        for appointment_id, a in self.model.items():
            if a["status"] == "booked":  # the contract's open appointments
                key = (locks.patient_owner(a["patient"]), "#open")
                wanted_counters[key] = wanted_counters.get(key, 0) + 1
            if a["status"] == "cancelled":
                continue
            key = (locks.doctor_owner(a["doctor"]), "#patient#" + a["patient"])
            n, live, done = wanted_counters.get(key, (0, 0, 0))
            is_live = a["status"] in lifecycle.LIVE
            wanted_counters[key] = (n + 1, live + is_live, done + (not is_live))
            occupancy = Occupancy(a["start"], a["end"], a["before"], a["after"])
            for owner, cells in (
                (locks.doctor_owner(a["doctor"]), occupancy.doctor_cells()),
                (locks.patient_owner(a["patient"]), occupancy.patient_cells()),
            ):
                for cell in cells:
                    key = (owner, locks.hour_key(cell), f"m{cell.minute:02d}")
                    assert key not in wanted, "two live appointments share a cell"
                    wanted[key] = appointment_id
        assert held == wanted
        assert counters == wanted_counters

    def _scan(self, variable: str):
        return self.client.scan(TableName=os.environ[variable])["Items"]


Booking.TestCase.settings = settings(
    max_examples=25, stateful_step_count=15, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
TestBookingModel = Booking.TestCase
