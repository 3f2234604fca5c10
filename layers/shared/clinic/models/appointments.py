"""Appointment request and response models."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import ConfigDict, Field, StringConstraints, model_validator

from clinic.domain.booking import MAX_DURATION_MINUTES
from clinic.models.common import (
    DEFAULT_LIMIT,
    Id,
    IdOut,
    Instant,
    Limit,
    NextToken,
    PagedWindowQuery,
    RequestModel,
    ResponseModel,
    TypeCode,
    WindowQuery,
    free_text,
)

Status = Literal["booked", "arrived", "fulfilled", "cancelled", "noshow"]
StatusChange = Literal["arrived", "fulfilled", "noshow"]
Reason = free_text(500)
CancellationReason = free_text(500, min_length=1, strip=True)
Duration = Annotated[int, Field(ge=1, le=MAX_DURATION_MINUTES, description="A multiple of the doctor's slot_minutes")]
ResourceIds = Annotated[list[Id], Field(min_length=1, max_length=3)]


class AppointmentResource(ResponseModel):
    id: IdOut
    kind: str


class TimeRequest(RequestModel):
    """A patient's time with a doctor: what booking and holding ask for alike."""

    patient_id: Id
    doctor_id: Id
    start: Instant = Field(description="RFC 3339 with an offset, on the doctor's slot grid")
    duration_minutes: Duration | None = Field(
        default=None, description="Default: the doctor's slot_minutes, or the appointment type's duration"
    )
    appointment_type: TypeCode | None = Field(
        default=None, description="A code of the doctor's appointment types; not together with duration_minutes"
    )
    resource_ids: ResourceIds | None = Field(
        default=None,
        description="For a type that needs rooms or equipment: the ones to take, one of each kind it needs, at "
        "the location of the working hours (default: the first free one of each kind, by name)",
    )

    @model_validator(mode="after")
    def _type_or_duration(self) -> TimeRequest:
        if self.appointment_type is not None and self.duration_minutes is not None:
            raise ValueError("give appointment_type or duration_minutes, not both")
        return self


class AppointmentCreate(TimeRequest):
    reason: Reason | None = None


class AppointmentUpdate(RequestModel):
    """Either a reschedule (start and/or duration_minutes) or a status change, not both."""

    start: Instant | None = None
    duration_minutes: Duration | None = None
    resource_ids: ResourceIds | None = Field(
        default=None, description="Rooms or equipment to move to (default: keep each where free, else the first free)"
    )
    status: StatusChange | None = None

    @model_validator(mode="after")
    def _one_kind_of_change(self) -> AppointmentUpdate:
        given = self.model_fields_set
        for name in given:
            if getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        if not given:
            raise ValueError("give start and/or duration_minutes to reschedule, or status")
        if "status" in given and given & {"start", "duration_minutes", "resource_ids"}:
            raise ValueError("a status change and a reschedule are separate requests")
        return self

    @property
    def is_reschedule(self) -> bool:
        return self.status is None


class CancelRequest(RequestModel):
    reason: CancellationReason


class AppointmentOut(ResponseModel):
    id: IdOut
    patient_id: IdOut
    doctor_id: IdOut
    start: datetime
    end: datetime
    duration_minutes: int
    reason: str | None = None
    appointment_type: str | None = None
    series_id: IdOut | None = None
    location_id: IdOut | None = Field(default=None, description="The location of its working interval, or null")
    resources: list[AppointmentResource] = Field(default_factory=list, description="The rooms and equipment it takes")
    status: Status
    cancellation_reason: str | None = None
    created_at: datetime
    updated_at: datetime


class SlotOut(ResponseModel):
    start: datetime
    end: datetime
    location_id: IdOut | None = Field(default=None, description="The location of its working interval, or null")


class Availability(ResponseModel):
    slots: list[SlotOut]


class AvailabilityQuery(WindowQuery):
    """?from=&to= (span at most 14 days), and optionally ?appointment_type=."""

    appointment_type: TypeCode | None = Field(
        default=None, description="Slots of this type's duration, with its buffers"
    )


class EarliestQuery(PagedWindowQuery):
    """GET /availability: ?from=&to= (span at most 14 days), optionally ?specialty=, ?location_id=,
    ?appointment_type=, and ?limit=&next_token=."""

    specialty: Annotated[str, StringConstraints(min_length=1, max_length=100)] | None = Field(
        default=None, description="Doctors of this specialty (the whole name, ignoring case)"
    )
    location_id: Id | None = Field(default=None, description="Slots at this location only")
    appointment_type: TypeCode | None = Field(
        default=None, description="Only doctors that offer this type: slots of its duration, buffers and resources"
    )


class EarliestSlot(ResponseModel):
    start: datetime
    end: datetime
    doctor_id: IdOut
    location_id: IdOut | None = None
    appointment_type: str | None = None


class EarliestPage(ResponseModel):
    items: list[EarliestSlot]
    next_token: str | None = Field(description="Opaque; null when there is nothing more")


class PatientAppointmentsQuery(RequestModel):
    """?from=&to=&status=&limit=&next_token= of a patient's appointments; from and to are optional."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)
    from_: Instant | None = Field(default=None, alias="from", description="RFC 3339 instant with an offset")
    to: Instant | None = Field(default=None, description="RFC 3339 instant with an offset")
    status: Status | None = None
    limit: Limit = DEFAULT_LIMIT
    next_token: NextToken | None = None


class Repeat(RequestModel):
    every_weeks: int = Field(ge=1, le=4)
    count: int = Field(ge=2, le=12, description="Occurrences, the first included")


class SeriesCreate(AppointmentCreate):
    """A weekly series: every occurrence keeps the first one's local wall-clock time in the doctor's zone."""

    repeat: Repeat


class SeriesOut(ResponseModel):
    id: IdOut
    appointments: list[AppointmentOut]
