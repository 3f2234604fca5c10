"""Location (a clinic's site) request and response models."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from clinic.models.common import (
    Country,
    IdOut,
    Name,
    PageQuery,
    PartialUpdate,
    Phone,
    RequestModel,
    ResponseModel,
    TimeZone,
    plain_text,
)


class Address(RequestModel):
    line: plain_text(200)
    city: plain_text(100)
    postal_code: plain_text(20)
    country: Country


class LocationCreate(RequestModel):
    name: Name
    time_zone: TimeZone = Field(description="IANA name; fixed once the location is created")
    address: Address | None = None
    phone: Phone | None = Field(default=None, description="E.164, e.g. +15550100000")


class LocationUpdate(PartialUpdate):
    """A partial update of name, address, phone and active; address and phone accept null to clear them.
    time_zone is fixed once created: sending it (like any other field) is a 422."""

    clearable = frozenset({"address", "phone"})

    name: Name | None = None
    address: Address | None = None
    phone: Phone | None = None
    active: bool | None = None


class AddressOut(ResponseModel):
    line: str
    city: str
    postal_code: str
    country: str


class LocationOut(ResponseModel):
    id: IdOut
    name: str
    time_zone: str
    address: AddressOut | None = None
    phone: str | None = None
    active: bool
    created_at: datetime
    updated_at: datetime


class LocationListQuery(PageQuery):
    """?limit=&next_token= of GET /locations (by name)."""
