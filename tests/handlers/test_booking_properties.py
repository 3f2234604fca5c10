"""Property-based: random book / cancel / reschedule sequences against a simple in-memory reference
model. After every step, the stored appointments and slot locks agree with each other and with the
model, and no doctor or patient has two overlapping live appointments."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import boto3
import hypothesis.strategies as st
from hypothesis import HealthCheck, settings
from hypothesis.stateful import Bundle, RuleBasedStateMachine, consumes, invariant, rule
from moto import mock_aws

from local_stack import template as tpl
from local_stack.tables import ensure_tables
from clinic.identity import Caller

STAFF = Caller(sub="property-test", groups=frozenset({"staff"}))  # the property is about storage, not access

ALL_DAY = [{"start": "00:00", "end": "24:00"}]
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
SLOT = 15


def _env(monkeypatch_env: dict[str, str]) -> None:
    import os

    os.environ.update(monkeypatch_env)


class Booking(RuleBasedStateMachine):
    appointments = Bundle("appointments")

    def __init__(self) -> None:
        super().__init__()
        import os

        self._saved_env = dict(os.environ)
        os.environ.update({"AWS_ACCESS_KEY_ID": "t", "AWS_SECRET_ACCESS_KEY": "t", "AWS_DEFAULT_REGION": "us-east-1",
                           "POWERTOOLS_TRACE_DISABLED": "true", "PAGINATION_SECRET": "t",
                           "POWERTOOLS_METRICS_NAMESPACE": "Test", "POWERTOOLS_SERVICE_NAME": "test"})
        os.environ.pop("AWS_ENDPOINT_URL_DYNAMODB", None)
        for function in tpl.functions():
            os.environ.update({k: v for k, v in function.environment.items() if k.endswith("_TABLE")})
        self.mock = mock_aws()
        self.mock.start()
        self.client = boto3.client("dynamodb", region_name="us-east-1")
        ensure_tables(self.client)
        from clinic.config import settings as clinic_settings
        from clinic.data import dynamo
        from clinic.models.doctors import DoctorCreate
        from clinic.models.patients import PatientCreate
        from clinic.services import doctors, patients

        clinic_settings.cache_clear()
        dynamo.resource.cache_clear()
        self.doctors = [doctors.create(DoctorCreate(given_name="D", family_name=str(i), specialty="x",
                                                     time_zone="UTC", slot_minutes=SLOT,
                                                     working_hours={d: ALL_DAY for d in DAYS}))["id"]
                        for i in range(2)]
        self.patients = [patients.register(PatientCreate(given_name="P", family_name=str(i),
                                                         birth_date="1990-01-01", sex="other"))["id"]
                         for i in range(3)]
        tomorrow = datetime.now(timezone.utc).date() + timedelta(days=2)
        self.base = datetime(tomorrow.year, tomorrow.month, tomorrow.day, 8, 0, tzinfo=timezone.utc)
        self.model: dict[str, dict] = {}  # id -> {doctor, patient, start, end, status}

    def teardown(self) -> None:
        import os

        self.mock.stop()
        os.environ.clear()
        os.environ.update(self._saved_env)

    # ---------------------------------------------------------------- model helpers
    def _live(self, exclude: str | None = None):
        return [a for i, a in self.model.items() if a["status"] == "booked" and i != exclude]

    def _expected(self, doctor, patient, start, end, exclude=None) -> str | None:
        live = self._live(exclude)
        if any(a["doctor"] == doctor and a["start"] < end and start < a["end"] for a in live):
            return "SLOT_UNAVAILABLE"
        if any(a["patient"] == patient and a["start"] < end and start < a["end"] for a in live):
            return "PATIENT_UNAVAILABLE"
        return None

    def _when(self, slot_index: int, slots: int):
        start = self.base + timedelta(minutes=SLOT * slot_index)
        return start, start + timedelta(minutes=SLOT * slots)

    # ---------------------------------------------------------------- rules
    @rule(target=appointments, doctor=st.integers(0, 1), patient=st.integers(0, 2), slot=st.integers(0, 23),
          slots=st.integers(1, 4))
    def book(self, doctor, patient, slot, slots):
        from clinic.errors import ApiError
        from clinic.models.appointments import AppointmentCreate
        from clinic.services import appointments

        start, end = self._when(slot, slots)
        expected = self._expected(self.doctors[doctor], self.patients[patient], start, end)
        try:
            made = appointments.book(AppointmentCreate(doctor_id=self.doctors[doctor], patient_id=self.patients[patient],
                                                       start=start, duration_minutes=SLOT * slots), STAFF)
        except ApiError as error:
            assert error.code == expected, (error.code, expected)
            return None
        assert expected is None, expected
        self.model[made["id"]] = {"doctor": self.doctors[doctor], "patient": self.patients[patient],
                                  "start": start, "end": end, "status": "booked"}
        return made["id"]

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

    @rule(appointment=appointments, slot=st.integers(0, 23), slots=st.integers(1, 4))
    def reschedule(self, appointment, slot, slots):
        from clinic.errors import ApiError
        from clinic.models.appointments import AppointmentUpdate
        from clinic.services import appointments

        if appointment is None:
            return
        current = self.model[appointment]
        start, end = self._when(slot, slots)
        expected = ("INVALID_TRANSITION" if current["status"] != "booked" else
                    self._expected(current["doctor"], current["patient"], start, end, exclude=appointment))
        try:
            appointments.update(appointment, AppointmentUpdate(start=start, duration_minutes=SLOT * slots), STAFF)
        except ApiError as error:
            assert error.code == expected, (error.code, expected)
            return
        assert expected is None, expected
        current.update(start=start, end=end)

    # ---------------------------------------------------------------- invariants
    @invariant()
    def stored_state_agrees_with_the_model_and_the_locks(self):
        from clinic.data import locks

        stored = {}
        for item in self._scan("APPOINTMENTS_TABLE"):
            stored[item["id"]["S"]] = (item["status"]["S"], item["start_at"]["S"], item["end_at"]["S"])
        expected = {i: (a["status"], a["start"].strftime("%Y-%m-%dT%H:%M:%SZ"), a["end"].strftime("%Y-%m-%dT%H:%M:%SZ"))
                    for i, a in self.model.items()}
        assert stored == expected

        held = {}
        for item in self._scan("SLOT_LOCKS_TABLE"):
            for attribute, value in item.items():
                if attribute.startswith("m") and len(attribute) == 3:
                    held[(item["owner"]["S"], item["hour"]["S"], attribute)] = value["S"]
        wanted = {}
        for appointment_id, a in self.model.items():
            if a["status"] != "booked":
                continue
            for owner in (locks.doctor_owner(a["doctor"]), locks.patient_owner(a["patient"])):
                for cell in locks.cells(a["start"], a["end"]):
                    key = (owner, locks.hour_key(cell), locks.cell_attribute(cell))
                    assert key not in wanted, "two live appointments share a cell"
                    wanted[key] = appointment_id
        assert held == wanted

    def _scan(self, variable: str):
        import os

        return self.client.scan(TableName=os.environ[variable])["Items"]


Booking.TestCase.settings = settings(max_examples=20, stateful_step_count=12, deadline=None,
                                     suppress_health_check=[HealthCheck.too_slow])
TestBookingModel = Booking.TestCase
