"""The audit trail as staff read it: ids, codes and times only."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from clinic.models.common import ResponseModel


class AccessRecord(ResponseModel):
    at: datetime = Field(description="When the request was answered (UTC).")
    action: str = Field(description="What was done, e.g. patient.read, appointment.book.")
    outcome: str = Field(description="allowed, denied, or failed:<problem code>.")
    status: int = Field(description="The HTTP status the caller got.")
    actor_sub: str = Field(description="The caller's user id (Cognito sub).")
    actor_role: str = Field(description="staff, doctors, patients or none.")
    request_id: str = Field(description="The API Gateway request id (X-Request-Id).")
    appointment_id: str | None = None
    doctor_id: str | None = None
