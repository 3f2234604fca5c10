"""Patient request and response models."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, WithJsonSchema, model_validator

from clinic.models.common import (
    Day,
    IdOut,
    Limit,
    Name,
    NextToken,
    PageQuery,
    PartialUpdate,
    Phone,
    RequestModel,
    ResponseModel,
    free_text,
    plain_text,
)

Sex = Literal["female", "male", "other", "unknown"]
Condition = free_text(200, min_length=1, strip=True)
Conditions = Annotated[list[Condition], Field(max_length=50)]
EARLIEST_BIRTH_DATE = date(1900, 1, 1)


def _email_address(value: str) -> str:
    """pydantic's EmailStr check (normalised address, the same errors), but importing email_validator
    on the first e-mail seen rather than when the model is built: its import is ~50 ms of every
    patient function's cold start, and most requests carry no e-mail."""
    from pydantic.networks import validate_email

    return validate_email(value)[1]


Email = Annotated[str, AfterValidator(_email_address), WithJsonSchema({"type": "string", "format": "email"})]


def _plausible_birth_date(value: date) -> date:
    if value < EARLIEST_BIRTH_DATE:
        raise ValueError("must not be before 1900-01-01")
    if value > datetime.now(UTC).date():
        raise ValueError("must not be in the future")
    return value


BirthDate = Annotated[Day, AfterValidator(_plausible_birth_date)]


class PatientCreate(RequestModel):
    given_name: Name
    family_name: Name
    birth_date: BirthDate
    sex: Sex
    phone: Phone | None = None
    email: Email | None = None
    conditions: Conditions = Field(default_factory=list)


class PatientUpdate(PartialUpdate):
    """A partial update: only the fields present change. Optional fields accept null to clear them."""

    clearable = frozenset({"phone", "email", "conditions"})

    given_name: Name | None = None
    family_name: Name | None = None
    birth_date: BirthDate | None = None
    sex: Sex | None = None
    phone: Phone | None = None
    email: Email | None = None
    conditions: Conditions | None = None
    active: bool | None = None


class PatientSearch(RequestModel):
    family_name_prefix: plain_text(100) | None = None
    birth_date: Day | None = None
    limit: Limit = 20
    next_token: NextToken | None = None

    @model_validator(mode="after")
    def _at_least_one_criterion(self) -> PatientSearch:
        if self.family_name_prefix is None and self.birth_date is None:
            raise ValueError("give family_name_prefix, birth_date or both")
        return self


class PatientOut(ResponseModel):
    id: IdOut
    given_name: str
    family_name: str
    birth_date: date
    sex: Sex
    phone: str | None = None
    email: str | None = None
    conditions: list[str] = Field(default_factory=list)
    active: bool
    age: int = Field(description="Whole years on today's UTC date.")
    created_at: datetime
    updated_at: datetime


class PatientListQuery(PageQuery):
    """?limit=&next_token= of GET /patients."""
