"""The waitlist: a patient waiting for a doctor's time within a window."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from pydantic import ConfigDict, Field, model_validator

from clinic.models.appointments import Duration, TypeCode
from clinic.models.common import Id, IdOut, Instant, PageQuery, RequestModel, ResponseModel, now_utc

EntryStatus = Literal["waiting", "offered", "booked", "cancelled", "expired"]
MAX_WINDOW = timedelta(days=60)


class WaitlistCreate(RequestModel):
    patient_id: Id
    doctor_id: Id
    from_: Instant = Field(alias="from", description="RFC 3339 with an offset")
    to: Instant = Field(description="RFC 3339 with an offset; after from, in the future, at most 60 days later")
    duration_minutes: Duration | None = Field(default=None, description="Default: the doctor's slot_minutes")
    appointment_type: TypeCode | None = None

    model_config = ConfigDict(extra="forbid", populate_by_name=False)

    @model_validator(mode="after")
    def _a_future_window(self) -> WaitlistCreate:
        if self.from_ >= self.to:
            raise ValueError("from must be before to")
        if self.to - self.from_ > MAX_WINDOW:
            raise ValueError("the window spans at most 60 days")
        if self.to <= now_utc():
            raise ValueError("to must be in the future")
        if self.appointment_type is not None and self.duration_minutes is not None:
            raise ValueError("give appointment_type or duration_minutes, not both")
        return self


class Offer(ResponseModel):
    hold_id: IdOut
    start: datetime
    end: datetime
    expires_at: datetime


class WaitlistEntryOut(ResponseModel):
    id: IdOut
    patient_id: IdOut
    doctor_id: IdOut
    from_: datetime = Field(alias="from", serialization_alias="from")
    to: datetime
    duration_minutes: int
    appointment_type: str | None = None
    status: EntryStatus
    offer: Offer | None = None
    created_at: datetime

    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class PatientWaitlistQuery(PageQuery):
    """?limit=&next_token= of a patient's waitlist entries."""
