"""Resource (room and equipment) use cases: create at an active location, read, update (name, active; the
location, kind and category are fixed), list by name — all, or a location's — optionally of one kind."""

from __future__ import annotations

from typing import Any

from clinic import pagination
from clinic.data import places
from clinic.data.records import AlreadyExists, VersionConflict
from clinic.errors import FieldError, NotFound, ServiceUnavailable, invalid
from clinic.models.common import now_utc, utc_iso
from clinic.models.resources import ResourceCreate, ResourceOut, ResourceUpdate
from clinic.services import new_id, require_id

_UPDATE_ATTEMPTS = 3


def to_out(item: dict[str, Any]) -> dict[str, Any]:
    return ResourceOut.model_validate(item).model_dump(mode="json")


def create(body: ResourceCreate) -> dict[str, Any]:
    now, resource_id = utc_iso(now_utc()), new_id()
    item = {
        "id": resource_id,
        **body.model_dump(mode="json"),
        "active": True,
        "created_at": now,
        "updated_at": now,
        "listing": places.RESOURCE_LISTING,
        "name_key": places.name_key(body.name, resource_id),
    }
    try:
        places.create_at_location(places.resources(), item, item["location_id"])
    except AlreadyExists:  # our own earlier attempt (same Idempotency-Key) committed
        return to_out(load(resource_id))
    except places.LocationsRefused as refused:
        if refused.found.get(item["location_id"]) is None:
            raise NotFound(
                detail="location not found", errors=[FieldError("location_id", "no such location")]
            ) from None
        raise invalid("location_id", "the location is inactive") from None
    return to_out(item)


def load(resource_id: str) -> dict[str, Any]:
    item = places.resources().get(require_id(resource_id, "resource"))
    if item is None:
        raise NotFound(detail="resource not found")
    return item


def get(resource_id: str) -> dict[str, Any]:
    return to_out(load(resource_id))


def update(resource_id: str, patch: ResourceUpdate) -> dict[str, Any]:
    changes = patch.model_dump(mode="json", exclude_unset=True)
    store = places.resources()
    for _ in range(_UPDATE_ATTEMPTS):
        current = load(resource_id)
        merged = {**current, **changes, "updated_at": utc_iso(now_utc())}
        merged["name_key"] = places.name_key(merged["name"], merged["id"])
        try:
            return to_out(store.replace(merged, expected_version=current["version"]))
        except VersionConflict:
            continue
    raise ServiceUnavailable(detail="the record is being changed concurrently; retry", headers={"Retry-After": "1"})


def list_page(limit: int, next_token: str | None, location_id: str | None, kind: str | None) -> dict[str, Any]:
    """By name: a location's resources (by_location) or all of them (by_name); a kind filters the page read."""
    if location_id is not None:
        scope = pagination.scope_of("resources:by_location", location_id, kind)
        index, condition = places.BY_LOCATION, places.at_location(location_id)
    else:
        scope = pagination.scope_of("resources:by_name", kind)
        index, condition = places.BY_NAME, places.listed(places.RESOURCE_LISTING)
    items, last_key = places.resources().query_page(
        index,
        condition,
        limit,
        pagination.decode(next_token, scope),
        places.of_kind(kind) if kind is not None else None,
    )
    return {"items": [to_out(i) for i in items], "next_token": pagination.encode(last_key, scope)}
