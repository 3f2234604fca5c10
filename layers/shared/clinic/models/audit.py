"""The audit trail as staff read it: ids, codes and times only."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from clinic.models.common import PageQuery, ResponseModel


class AccessRecord(ResponseModel):
    at: datetime = Field(description="When the request was answered (UTC).")
    action: str = Field(description="What was done, e.g. patient.read, appointment.book.")
    outcome: Literal["allowed", "denied", "failed"] = Field(
        description="allowed; denied (the caller may not); failed (refused for another reason, or an error)."
    )
    status: int = Field(description="The HTTP status the caller got.")
    actor_sub: str = Field(description="The caller's user id (Cognito sub).")
    actor_role: str = Field(description="staff, doctors, patients or none.")
    request_id: str = Field(description="The API Gateway request id (X-Request-Id).")
    appointment_id: str | None = None
    doctor_id: str | None = None


class AccessLogQuery(PageQuery):
    """?limit=&next_token= of a patient's access log."""
