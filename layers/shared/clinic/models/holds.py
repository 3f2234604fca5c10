"""Holds: a time kept for a patient while they confirm."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from clinic.models.appointments import AppointmentResource, Reason, TimeRequest
from clinic.models.common import IdOut, RequestModel, ResponseModel

HoldStatus = Literal["held", "confirmed", "released", "expired"]


class HoldCreate(TimeRequest):
    """The time to hold, as a booking would ask for it."""


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
    location_id: IdOut | None = Field(default=None, description="The location of its working interval, or null")
    resources: list[AppointmentResource] = Field(default_factory=list, description="The rooms and equipment it holds")
    status: HoldStatus = Field(description="expired as soon as expires_at has passed")
    expires_at: datetime
    appointment_id: IdOut | None = Field(default=None, description="Once confirmed")
    created_at: datetime
