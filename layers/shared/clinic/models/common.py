"""Reusable model pieces: the strict base, constrained types and the page envelope."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated, Generic, TypeVar

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

MAX_BODY_BYTES = 64 * 1024
DEFAULT_LIMIT, MAX_LIMIT = 20, 100


class RequestModel(BaseModel):
    """Base of every request body: unknown fields are a 422 (no mass assignment)."""

    model_config = ConfigDict(extra="forbid")


class ResponseModel(BaseModel):
    model_config = ConfigDict(extra="ignore")


Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Phone = Annotated[str, StringConstraints(pattern=r"^\+[1-9][0-9]{1,14}$")]
Limit = Annotated[int, Field(ge=1, le=MAX_LIMIT)]
NextToken = Annotated[str, StringConstraints(min_length=1, max_length=2048)]


def _to_utc(value: datetime) -> datetime:
    return value.astimezone(timezone.utc)


# An instant given with an offset (a naive timestamp is a 422), normalised to UTC.
Instant = Annotated[AwareDatetime, AfterValidator(_to_utc)]

T = TypeVar("T")


class Page(ResponseModel, Generic[T]):
    items: list[T]
    next_token: str | None = Field(description="Opaque; pass it back to get the next page. null: no more.")


def utc_iso(value: datetime) -> str:
    """Instants always leave the service in UTC with a Z."""
    return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def now_utc() -> datetime:
    return datetime.now(timezone.utc)
