"""Doctor request and response models, with the working-hours rules of the contract."""

from __future__ import annotations

import itertools
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, StringConstraints, model_validator

from clinic.domain.booking import MAX_DURATION_MINUTES
from clinic.domain.schedule import WEEKDAYS, parse_hhmm
from clinic.models.common import (
    Id,
    IdOut,
    Name,
    PageQuery,
    PartialUpdate,
    RequestModel,
    ResourceKind,
    ResponseModel,
    TimeZone,
    TypeCode,
    plain_text,
)

SlotMinutes = Literal[5, 10, 15, 20, 30, 60]
Specialty = plain_text(100)
HHMM = Annotated[str, StringConstraints(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$")]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


class Interval(RequestModel):
    start: HHMM
    end: HHMM
    location_id: Id | None = Field(
        default=None, description="Where it is worked: an active location in the doctor's time zone; null: no site"
    )

    @model_validator(mode="after")
    def _start_before_end(self) -> Interval:
        if parse_hhmm(self.start) >= parse_hhmm(self.end):
            raise ValueError("start must be before end")
        if self.start == "24:00":
            raise ValueError("start cannot be 24:00")
        return self


WorkingHoursMap = dict[Weekday, Annotated[list[Interval], Field(max_length=24)]]
MAX_APPOINTMENT_TYPES = 20
# A doctor's write checks each location its hours name, and keeps the location's list of doctors, in
# one transaction (at most 100 items): 20 sites a week is far more than a doctor works at.
MAX_LOCATIONS = 20
MAX_RESOURCE_KINDS = 3


def _distinct_kinds(kinds: list[str]) -> list[str]:
    if len(set(kinds)) != len(kinds):
        raise ValueError("kinds must be distinct")
    return kinds


ResourceKinds = Annotated[
    list[ResourceKind],
    Field(max_length=MAX_RESOURCE_KINDS, description="Distinct kinds of resource it needs, one of each"),
    AfterValidator(_distinct_kinds),
]


def _buffer(value: int) -> int:
    if value % 5:
        raise ValueError("must be a multiple of 5 minutes")
    return value


Buffer = Annotated[int, Field(ge=0, le=120, description="Minutes, a multiple of 5"), AfterValidator(_buffer)]


class AppointmentType(RequestModel):
    """A kind of visit: its duration, and the buffers it occupies for the doctor before and after."""

    code: TypeCode = Field(description="Unique per doctor: ^[a-z0-9-]{1,40}$")
    name: Name
    duration_minutes: Annotated[int, Field(ge=1, le=MAX_DURATION_MINUTES, description="A multiple of slot_minutes")]
    buffer_before_minutes: Buffer = 0
    buffer_after_minutes: Buffer = 0
    resource_kinds: ResourceKinds = Field(default_factory=list)


def check_appointment_types(types: list[AppointmentType], slot_minutes: int) -> None:
    codes = [t.code for t in types]
    if len(set(codes)) != len(codes):
        raise ValueError("appointment_types: codes must be unique")
    for kind in types:
        if kind.duration_minutes % slot_minutes:
            raise ValueError(f"appointment_types.{kind.code}: duration_minutes must be a multiple of {slot_minutes}")


def check_working_hours(hours: dict[str, list[Interval]], slot_minutes: int) -> None:
    """Intervals of a day don't overlap and both ends lie on the slot grid (raises ValueError)."""
    for day, intervals in hours.items():
        spans = sorted((parse_hhmm(i.start), parse_hhmm(i.end)) for i in intervals)
        for start, end in spans:
            if start % slot_minutes or end % slot_minutes:
                raise ValueError(
                    f"working_hours.{day}: {start // 60:02d}:{start % 60:02d}-"
                    f"{end // 60:02d}:{end % 60:02d} is not on the {slot_minutes}-minute grid"
                )
        for (_, prev_end), (next_start, _) in itertools.pairwise(spans):
            if next_start < prev_end:
                raise ValueError(f"working_hours.{day}: intervals overlap")
    named = {i.location_id for intervals in hours.values() for i in intervals if i.location_id is not None}
    if len(named) > MAX_LOCATIONS:
        raise ValueError(f"working_hours: at most {MAX_LOCATIONS} different locations")


class DoctorCreate(RequestModel):
    given_name: Name
    family_name: Name
    specialty: Specialty
    time_zone: TimeZone
    slot_minutes: SlotMinutes = 15
    working_hours: WorkingHoursMap = Field(default_factory=dict)
    appointment_types: Annotated[list[AppointmentType], Field(max_length=MAX_APPOINTMENT_TYPES)] = Field(
        default_factory=list
    )

    @model_validator(mode="after")
    def _hours_and_types_on_grid(self) -> DoctorCreate:
        check_working_hours(self.working_hours, self.slot_minutes)
        check_appointment_types(self.appointment_types, self.slot_minutes)
        return self


class DoctorUpdate(PartialUpdate):
    """A partial update; the merged doctor is validated again as a whole (grid and overlaps)."""

    given_name: Name | None = None
    family_name: Name | None = None
    specialty: Specialty | None = None
    time_zone: TimeZone | None = None
    slot_minutes: SlotMinutes | None = None
    working_hours: WorkingHoursMap | None = None
    appointment_types: Annotated[list[AppointmentType], Field(max_length=MAX_APPOINTMENT_TYPES)] | None = None
    active: bool | None = None


class IntervalOut(ResponseModel):
    start: str
    end: str
    location_id: IdOut | None = None


class AppointmentTypeOut(ResponseModel):
    code: str
    name: str
    duration_minutes: int
    buffer_before_minutes: int = 0
    buffer_after_minutes: int = 0
    resource_kinds: list[str] = Field(default_factory=list)


class DoctorOut(ResponseModel):
    id: IdOut
    given_name: str
    family_name: str
    specialty: str
    time_zone: str
    slot_minutes: int
    working_hours: dict[str, list[IntervalOut]]
    appointment_types: list[AppointmentTypeOut] = Field(default_factory=list)
    active: bool
    created_at: datetime
    updated_at: datetime


class DoctorListQuery(PageQuery):
    """?limit=&next_token=&specialty=&location_id= of GET /doctors."""

    specialty: Specialty | None = Field(default=None, description="The whole specialty, in any case")
    location_id: Id | None = Field(
        default=None,
        description="Only doctors whose working hours name this location (an unknown one: none). With "
        "specialty as well, both apply: a page then holds the location's doctors of that specialty among "
        "`limit` of its doctors, so it may hold fewer than `limit` items, even none, while next_token is "
        "not null.",
    )


__all__ = ["WEEKDAYS", "DoctorCreate", "DoctorListQuery", "DoctorOut", "DoctorUpdate", "check_working_hours"]
