"""Locations, resources (rooms and equipment), and which doctors work at which location.

- **Locations and resources** are records (``Records``: consistent reads, create, optimistic replace under
  ``version``), listed by name: each item carries ``listing`` ("location" / "resource") and
  ``name_key`` (<case-folded name>#<id>), the keys of its ``by_name`` index, and a resource its
  ``location_id`` (``by_location``). A resource is created only at a location that exists and is active:
  its ``Put`` and a ``ConditionCheck`` of the location are one transaction, so a location deactivated
  meanwhile is never given a new resource.
- **A location's doctors** are items beside the slot locks (same table, keys that never collide with an
  hour): ``location#<location id>`` / ``#doctor#<doctor id>``, one per doctor whose working hours name the
  location now, each with a copy of the doctor as stored (``doctor``), so one Query of a location gives its
  doctors whole (the earliest search and the day sheet: reads that do not grow with the number of doctors).
  Every write of a doctor goes through ``save_doctor`` — create, update, deactivation, time off: the
  doctor's ``Put``, a ``ConditionCheck`` of every location its hours name when they are checked (exists,
  active, the doctor's zone), the membership items (with the new copy) put and those of the locations it
  left deleted — one transaction, so a copy is never older or newer than the doctor it copies. A
  membership item written before the copies existed has none: its doctor is read from the Doctors table.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from boto3.dynamodb.conditions import Attr, Key

from clinic.config import settings
from clinic.data.dynamo import plain, table
from clinic.data.records import AlreadyExists, Records, VersionConflict
from clinic.data.transactions import Failed, Transaction

BY_NAME, BY_LOCATION = "by_name", "by_location"  # index names, as declared in template.yaml
LOCATION_LISTING, RESOURCE_LISTING = "location", "resource"
MEMBER_PREFIX = "#doctor#"


def locations() -> Records:
    return Records(settings().locations_table)


def resources() -> Records:
    return Records(settings().resources_table)


def name_key(name: str, record_id: str) -> str:
    """Sorts by name, whatever the case; the id keeps equal names apart."""
    return f"{name.strip().casefold()}#{record_id}"


def listed(listing: str):
    """The key condition of a whole listing (by_name), in name order."""
    return Key("listing").eq(listing)


def at_location(location_id: str):
    """The key condition of a location's resources (by_location), in name order."""
    return Key("location_id").eq(location_id)


def of_kind(kind: str):
    return Attr("kind").eq(kind)


class LocationsRefused(Exception):
    """Locations a write needed failed its check: location id → the item as it was (None: no such location)."""

    def __init__(self, found: dict[str, dict[str, Any] | None]) -> None:
        super().__init__("locations refused")
        self.found = found


def location_check(location_id: str, time_zone: str | None = None) -> dict[str, Any]:
    """A condition (no change) that the location exists and is active (and, given one, has this zone);
    failing, it hands back the location as it is, so unknown (404) and refused (422) are told apart."""
    condition = "attribute_exists(id) AND active = :yes"
    values: dict[str, Any] = {":yes": True}
    if time_zone is not None:
        condition += " AND time_zone = :zone"
        values[":zone"] = time_zone
    return {
        "ConditionCheck": {
            "TableName": settings().locations_table,
            "Key": {"id": location_id},
            "ConditionExpression": condition,
            "ExpressionAttributeValues": values,
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
    }


def _refused(failed: Failed, checked: list[str]) -> LocationsRefused:
    return LocationsRefused({checked[r.index]: old for r, old in failed.roles.items() if r.kind == "location"})


def create_at_location(store: Records, item: dict[str, Any], location_id: str) -> None:
    """Put a new record (version 1) at an active location, in one transaction: AlreadyExists if its id is
    taken (a keyed retry of a committed create), LocationsRefused if the location is unknown or inactive."""
    put = {"TableName": store.name, "Item": {**item, "version": 1}, "ConditionExpression": "attribute_not_exists(id)"}
    transaction = Transaction()
    transaction.add({"Put": put}, "record")
    transaction.add(location_check(location_id), "location")
    try:
        transaction.run()
    except Failed as failed:
        if failed.has("record"):
            raise AlreadyExists() from None
        raise _refused(failed, [location_id]) from None


# ---------------------------------------------------------------------- a location's doctors
def location_owner(location_id: str) -> str:
    return f"location#{location_id}"


def member_key(location_id: str, doctor_id: str) -> dict[str, str]:
    return {"owner": location_owner(location_id), "hour": f"{MEMBER_PREFIX}{doctor_id}"}


def save_doctor(
    store: Records,
    item: dict[str, Any],
    expected_version: int | None,
    *,
    at: Iterable[str] = (),
    check: dict[str, str] | None = None,
    leave: Iterable[str] = (),
) -> dict[str, Any]:
    """Write a doctor — new (``expected_version`` None) or replacing that version — and answer it as
    stored. ``at``: the locations its hours name now (each gets its membership item, with the copy);
    ``check``: location id → the zone it must have (each must also exist and be active); ``leave``: the
    locations whose doctors it leaves. Without any of those, one conditional put; otherwise one
    transaction. Raises AlreadyExists / VersionConflict when the doctor's own condition fails,
    LocationsRefused when a location's does."""
    check, at, leave = dict(check or {}), sorted(at), sorted(leave)
    if not (check or at or leave):
        if expected_version is None:
            store.create(item)
            return {**item, "version": 1}
        return store.replace(item, expected_version)
    new_item = {**item, "version": 1 if expected_version is None else expected_version + 1}
    put: dict[str, Any] = {"TableName": store.name, "Item": new_item}
    if expected_version is None:
        put["ConditionExpression"] = "attribute_not_exists(id)"
    else:
        put["ConditionExpression"] = "version = :v"
        put["ExpressionAttributeValues"] = {":v": expected_version}
    transaction = Transaction()
    transaction.add({"Put": put}, "record")
    checked = sorted(check)
    for index, location_id in enumerate(checked):
        transaction.add(location_check(location_id, check[location_id]), "location", index)
    locks = settings().slot_locks_table
    for location_id in at:
        member = {**member_key(location_id, item["id"]), "doctor_id": item["id"], "doctor": new_item}
        transaction.add({"Put": {"TableName": locks, "Item": member}}, "member")
    for location_id in leave:
        transaction.add({"Delete": {"TableName": locks, "Key": member_key(location_id, item["id"])}}, "member")
    try:
        transaction.run()
    except Failed as failed:
        if failed.has("record"):
            raise (AlreadyExists() if expected_version is None else VersionConflict()) from None
        raise _refused(failed, checked) from None
    return new_item


def members_page(
    location_id: str, limit: int, start_key: dict | None
) -> tuple[list[tuple[str, dict[str, Any] | None]], dict | None]:
    """A page of the doctors working at the location (by id): each one's id and copy (None where its item
    predates the copies), and where the next page starts. Read consistently: a copy is as new as the
    doctor's last committed write."""
    args: dict[str, Any] = {
        "KeyConditionExpression": Key("owner").eq(location_owner(location_id)) & Key("hour").begins_with(MEMBER_PREFIX),
        "ProjectionExpression": "doctor_id, doctor, #o, #h",
        "ExpressionAttributeNames": {"#o": "owner", "#h": "hour"},
        "Limit": limit,
        "ConsistentRead": True,
    }
    if start_key:
        args["ExclusiveStartKey"] = start_key
    answer = table(settings().slot_locks_table).query(**args)
    found = [(str(i["doctor_id"]), i.get("doctor")) for i in plain(answer.get("Items", []))]
    return found, answer.get("LastEvaluatedKey")
