"""Resource (a room or a piece of equipment at a location) request and response models."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from clinic.models.common import Id, IdOut, Name, PageQuery, PartialUpdate, RequestModel, ResourceKind, ResponseModel

Category = Literal["room", "equipment"]


class ResourceCreate(RequestModel):
    location_id: Id = Field(description="An active location; fixed once created")
    name: Name
    kind: ResourceKind = Field(description="^[a-z0-9-]{1,40}$, e.g. exam-room, ultrasound; fixed once created")
    category: Category = Field(description="Fixed once created")


class ResourceUpdate(PartialUpdate):
    """A partial update of name and active. location_id, kind and category are fixed: sending one is a 422."""

    name: Name | None = None
    active: bool | None = None


class ResourceOut(ResponseModel):
    id: IdOut
    location_id: IdOut
    name: str
    kind: str
    category: Category
    active: bool
    created_at: datetime
    updated_at: datetime


class ResourceListQuery(PageQuery):
    """?limit=&next_token=&location_id=&kind= of GET /resources (by name)."""

    location_id: Id | None = Field(default=None, description="Only this location's resources (an unknown one: none)")
    kind: ResourceKind | None = Field(
        default=None,
        description="Only resources of this kind. A filter on the page read: a page may hold fewer than `limit` "
        "items, even none, while next_token is not null.",
    )
