"""The health answer."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from clinic.models.common import ResponseModel


class HealthOut(ResponseModel):
    status: Literal["ok", "unavailable"]
    version: str = Field(description="The deployed service version")
    checks: dict[str, str] = Field(description='Each table: "ok" or "failed: <error code>"')
    latency_ms: float = Field(description="How long the storage checks took")
