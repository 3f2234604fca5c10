"""Appointment request and response models."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import UUID4, Field, StringConstraints, model_validator

from clinic.models.common import Instant, RequestModel, ResponseModel

Status = Literal["booked", "arrived", "fulfilled", "cancelled", "noshow"]
StatusChange = Literal["arrived", "fulfilled", "noshow"]
Reason = Annotated[str, StringConstraints(max_length=500)]
CancellationReason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
MAX_DURATION_MINUTES = 240
Duration = Annotated[int, Field(ge=1, le=MAX_DURATION_MINUTES, description="A multiple of the doctor's slot_minutes")]


class AppointmentCreate(RequestModel):
    patient_id: UUID4
    doctor_id: UUID4
    start: Instant = Field(description="RFC 3339 with an offset, on the doctor's slot grid")
    duration_minutes: Duration | None = Field(default=None, description="Default: the doctor's slot_minutes")
    reason: Reason | None = None


class AppointmentUpdate(RequestModel):
    """Either a reschedule (start and/or duration_minutes) or a status change, not both."""

    start: Instant | None = None
    duration_minutes: Duration | None = None
    status: StatusChange | None = None

    @model_validator(mode="after")
    def _one_kind_of_change(self) -> "AppointmentUpdate":
        given = self.model_fields_set
        for name in given:
            if getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        if not given:
            raise ValueError("give start and/or duration_minutes to reschedule, or status")
        if "status" in given and given & {"start", "duration_minutes"}:
            raise ValueError("a status change and a reschedule are separate requests")
        return self

    @property
    def is_reschedule(self) -> bool:
        return self.status is None


class CancelRequest(RequestModel):
    reason: CancellationReason


class AppointmentOut(ResponseModel):
    id: str
    patient_id: str
    doctor_id: str
    start: datetime
    end: datetime
    duration_minutes: int
    reason: str | None = None
    status: Status
    cancellation_reason: str | None = None
    created_at: datetime
    updated_at: datetime


class SlotOut(ResponseModel):
    start: datetime
    end: datetime


class Availability(ResponseModel):
    slots: list[SlotOut]
