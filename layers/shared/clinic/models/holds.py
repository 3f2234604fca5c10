"""Holds: a time kept for a patient while they confirm."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field, model_validator

from clinic.models.appointments import Duration, Reason, TypeCode
from clinic.models.common import Id, IdOut, Instant, RequestModel, ResponseModel

HoldStatus = Literal["held", "confirmed", "released", "expired"]


class HoldCreate(RequestModel):
    patient_id: Id
    doctor_id: Id
    start: Instant = Field(description="RFC 3339 with an offset, on the doctor's slot grid")
    duration_minutes: Duration | None = Field(
        default=None, description="Default: the doctor's slot_minutes, or the appointment type's duration"
    )
    appointment_type: TypeCode | None = None

    @model_validator(mode="after")
    def _type_or_duration(self) -> HoldCreate:
        if self.appointment_type is not None and self.duration_minutes is not None:
            raise ValueError("give appointment_type or duration_minutes, not both")
        return self


class HoldConfirm(RequestModel):
    reason: Reason | None = None


class HoldOut(ResponseModel):
    id: IdOut
    patient_id: IdOut
    doctor_id: IdOut
    start: datetime
    end: datetime
    duration_minutes: int
    appointment_type: str | None = None
    status: HoldStatus = Field(description="expired as soon as expires_at has passed")
    expires_at: datetime
    appointment_id: IdOut | None = Field(default=None, description="Once confirmed")
    created_at: datetime
