"""Location use cases: create, read, update (name, address, phone, active; the zone is fixed), list by name."""

from __future__ import annotations

from typing import Any

from clinic import pagination
from clinic.data import places
from clinic.data.records import AlreadyExists, VersionConflict
from clinic.errors import NotFound, ServiceUnavailable
from clinic.models.common import now_utc, utc_iso
from clinic.models.locations import LocationCreate, LocationOut, LocationUpdate
from clinic.services import new_id, require_id

_UPDATE_ATTEMPTS = 3


def to_out(item: dict[str, Any]) -> dict[str, Any]:
    return LocationOut.model_validate(item).model_dump(mode="json")


def create(body: LocationCreate) -> dict[str, Any]:
    now, location_id = utc_iso(now_utc()), new_id()
    item = {
        "id": location_id,
        **body.model_dump(mode="json", exclude_none=True),
        "active": True,
        "created_at": now,
        "updated_at": now,
        "listing": places.LOCATION_LISTING,
        "name_key": places.name_key(body.name, location_id),
    }
    try:
        places.locations().create(item)
    except AlreadyExists:  # our own earlier attempt (same Idempotency-Key) committed
        return to_out(load(location_id))
    return to_out(item)


def load(location_id: str) -> dict[str, Any]:
    item = places.locations().get(require_id(location_id, "location"))
    if item is None:
        raise NotFound(detail="location not found")
    return item


def get(location_id: str) -> dict[str, Any]:
    return to_out(load(location_id))


def update(location_id: str, patch: LocationUpdate) -> dict[str, Any]:
    changes = patch.model_dump(mode="json", exclude_unset=True)
    cleared = [name for name, value in changes.items() if value is None]  # address or phone: null clears it
    store = places.locations()
    for _ in range(_UPDATE_ATTEMPTS):
        current = load(location_id)
        merged = {k: v for k, v in {**current, **changes}.items() if k not in cleared}
        merged.update(updated_at=utc_iso(now_utc()), name_key=places.name_key(merged["name"], merged["id"]))
        try:
            return to_out(store.replace(merged, expected_version=current["version"]))
        except VersionConflict:
            continue
    raise ServiceUnavailable(detail="the record is being changed concurrently; retry", headers={"Retry-After": "1"})


def list_page(limit: int, next_token: str | None) -> dict[str, Any]:
    scope = pagination.scope_of("locations:by_name")
    items, last_key = places.locations().query_page(
        places.BY_NAME, places.listed(places.LOCATION_LISTING), limit, pagination.decode(next_token, scope)
    )
    return {"items": [to_out(i) for i in items], "next_token": pagination.encode(last_key, scope)}
