"""A doctor's time off: when they are away, and the appointments it overlapped when it was created."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from pydantic import ConfigDict, Field, model_validator

from clinic.models.common import DEFAULT_LIMIT, IdOut, Instant, Limit, NextToken, RequestModel, ResponseModel, now_utc

Kind = Literal["vacation", "sick", "training", "personal", "closure", "other"]
MAX_SPAN = timedelta(days=366)


class TimeOffCreate(RequestModel):
    start: Instant = Field(description="RFC 3339 with an offset")
    end: Instant = Field(description="RFC 3339 with an offset; after start, in the future, at most 366 days later")
    kind: Kind

    @model_validator(mode="after")
    def _a_future_span(self) -> TimeOffCreate:
        if self.start >= self.end:
            raise ValueError("start must be before end")
        if self.end - self.start > MAX_SPAN:
            raise ValueError("time off spans at most 366 days")
        if self.end <= now_utc():
            raise ValueError("end must be in the future")
        return self


class TimeOffOut(ResponseModel):
    id: IdOut
    doctor_id: IdOut
    start: datetime
    end: datetime
    kind: Kind
    created_at: datetime


class AffectedAppointment(ResponseModel):
    id: IdOut
    patient_id: IdOut
    start: datetime
    end: datetime


class TimeOffCreated(TimeOffOut):
    affected_appointments: list[AffectedAppointment] = Field(
        description="The doctor's booked appointments it overlaps, by start: not cancelled; staff move them"
    )


class TimeOffQuery(RequestModel):
    """?from=&to= (required, span at most 366 days), paginated."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)
    from_: Instant = Field(alias="from", description="RFC 3339 instant with an offset")
    to: Instant = Field(description="RFC 3339 instant with an offset")
    limit: Limit = DEFAULT_LIMIT
    next_token: NextToken | None = None
