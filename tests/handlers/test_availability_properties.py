"""Property-based: GET /availability (clinic.services.availability.search) answers exactly the union of
the doctors' own availability (clinic.services.appointments.availability), merged by start then doctor
and paged, over random calendars: doctors in zones with daylight-saving changes inside the window,
working hours at a location or at none, appointment types with buffers and rooms, time off, and time
already taken — by bookings, by holds, by rooms taken through another doctor."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import boto3
import hypothesis.strategies as st
from hypothesis import HealthCheck, given, settings
from moto import mock_aws

from clinic.identity import Caller
from local_stack import template as tpl
from local_stack.tables import ensure_tables

STAFF = Caller(sub="availability-property", groups=frozenset({"staff"}))
ZONES = ("America/New_York", "Europe/London", "Australia/Lord_Howe", "Asia/Kolkata")
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
TYPES = [
    {"code": "short", "name": "Short", "duration_minutes": 30},
    {
        "code": "buffered",
        "name": "Buffered",
        "duration_minutes": 30,
        "buffer_before_minutes": 10,
        "buffer_after_minutes": 20,
    },
    {"code": "roomy", "name": "Roomy", "duration_minutes": 60, "buffer_after_minutes": 15, "resource_kinds": ["room"]},
]


def next_change(zone: str, after: datetime) -> datetime:
    """The zone's next UTC-offset change after ``after`` (each of ZONES but Kolkata has one within a year;
    Kolkata's window is simply an ordinary day)."""
    tz = ZoneInfo(zone)
    at = after
    for _ in range(366 * 24):
        if (at + timedelta(hours=1)).astimezone(tz).utcoffset() != at.astimezone(tz).utcoffset():
            return at
        at += timedelta(hours=1)
    return after


calendars = st.fixed_dictionaries(
    {
        "zone": st.sampled_from(ZONES),
        "doctors": st.lists(
            st.fixed_dictionaries(
                {
                    "slot": st.sampled_from([15, 30]),
                    "hours": st.lists(
                        st.tuples(st.integers(0, 20), st.integers(1, 8), st.booleans()), min_size=1, max_size=2
                    ),  # (start hour, length in hours, at the location?)
                    "away": st.lists(st.tuples(st.integers(0, 70), st.integers(1, 6)), max_size=2),  # (hour, hours)
                }
            ),
            min_size=1,
            max_size=3,
        ),
        "taken": st.lists(
            st.tuples(
                st.integers(0, 2), st.integers(0, 71), st.sampled_from(["short", "buffered", "roomy"]), st.booleans()
            ),
            max_size=6,
        ),  # (doctor, hour of the window, type, a hold?)
        "rooms": st.integers(1, 2),
        "type": st.sampled_from([None, "short", "buffered", "roomy"]),
        "at_location": st.booleans(),
        "limit": st.integers(1, 9),
    }
)


class World:
    def __enter__(self):
        self.saved = dict(os.environ)
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
        from clinic.services import allocation, clinic_settings, doctors

        clinic_config.cache_clear()
        dynamo.resource.cache_clear()
        doctors.forget()
        clinic_settings.forget()
        allocation.forget()
        return self

    def __exit__(self, *exc):
        self.mock.stop()
        os.environ.clear()
        os.environ.update(self.saved)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(calendar=calendars)
def test_the_search_is_the_union_of_every_doctors_own_availability(calendar):
    from clinic.errors import ApiError
    from clinic.models.appointments import AppointmentCreate
    from clinic.models.doctors import DoctorCreate
    from clinic.models.holds import HoldCreate
    from clinic.models.locations import LocationCreate
    from clinic.models.patients import PatientCreate
    from clinic.models.resources import ResourceCreate
    from clinic.models.time_off import TimeOffCreate
    from clinic.services import appointments, availability, doctors, holds, locations, patients, resources, time_off

    zone = calendar["zone"]
    # a window of three days around the zone's next daylight-saving change (at least two days ahead)
    change = next_change(zone, datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(days=3))
    start = change.astimezone(ZoneInfo(zone)).replace(hour=0, minute=0).astimezone(UTC) - timedelta(days=1)
    window = (start, start + timedelta(days=3))
    with World():
        site = locations.create(LocationCreate(name="Site", time_zone=zone))["id"]
        for i in range(calendar["rooms"]):
            resources.create(ResourceCreate(location_id=site, name=f"Room {i}", kind="room", category="room"))
        made = []
        for i, spec in enumerate(calendar["doctors"]):
            spans = []
            for first, length, located in sorted(spec["hours"]):
                end = min(first + length, 24)
                if spans and first < int(spans[-1]["end"][:2]):
                    continue  # intervals of a day do not overlap
                span = {"start": f"{first:02d}:00", "end": "24:00" if end == 24 else f"{end:02d}:00"}
                spans.append({**span, "location_id": site} if located else span)
            made.append(
                doctors.create(
                    DoctorCreate(
                        given_name="D",
                        family_name=str(i),
                        specialty="x",
                        time_zone=zone,
                        slot_minutes=spec["slot"],
                        working_hours=dict.fromkeys(DAYS, spans),
                        appointment_types=TYPES,
                    )
                )["id"]
            )
            for hour, hours in spec["away"]:
                away = TimeOffCreate(
                    start=start + timedelta(hours=hour), end=start + timedelta(hours=hour + hours), kind="training"
                )
                time_off.create(made[-1], away, STAFF)
        patient_ids = [
            patients.register(PatientCreate(given_name="P", family_name=str(i), birth_date="1990-01-01", sex="other"))[
                "id"
            ]
            for i in range(len(calendar["taken"]))
        ]
        for (doctor, hour, type_code, as_hold), patient in zip(calendar["taken"], patient_ids, strict=True):
            if doctor >= len(made):
                continue
            when = start + timedelta(hours=hour)
            try:
                if as_hold:
                    holds.place(
                        HoldCreate(doctor_id=made[doctor], patient_id=patient, start=when, appointment_type=type_code),
                        STAFF,
                    )
                else:
                    appointments.book(
                        AppointmentCreate(
                            doctor_id=made[doctor], patient_id=patient, start=when, appointment_type=type_code
                        ),
                        STAFF,
                    )
            except ApiError:
                pass  # outside hours, busy, no room: that time stays as it is
        type_code = calendar["type"]
        location = site if calendar["at_location"] else None
        expected = sorted(
            (slot["start"], doctor, slot)
            for doctor in made
            for slot in appointments.availability(doctor, *window, type_code, STAFF)["slots"]
            if location is None or slot["location_id"] == location
        )
        found, token = [], None
        while True:
            page = availability.search(
                *window,
                specialty=None,
                location_id=location,
                type_code=type_code,
                limit=calendar["limit"],
                next_token=token,
                who=STAFF,
            )
            assert len(page["items"]) <= calendar["limit"]
            found += page["items"]
            token = page["next_token"]
            if token is None:
                break
        assert found == [{**slot, "doctor_id": doctor, "appointment_type": type_code} for _, doctor, slot in expected]
