"""The clinic settings item, and the copies of its version that writes check.

One record (``id = "clinic"``) holds the values and a ``version`` bumped by every change. A request
decided by the settings may use a copy its container read earlier only because its transaction
proves the copy current: a ``ConditionCheck`` that the version is still the one it planned with
(``check_action``). If every write checked the one ``clinic`` item, every booking in the clinic would
touch it — one partition's throughput for the whole service, and ``TransactionConflict``s between
unrelated bookings. So a change writes the new version to ``CHECK_SHARDS`` small items as well, in
the same transaction as the values, and a write checks the one its doctor hashes to: bookings of one
doctor already meet on the doctor's item, and other doctors' bookings spread over the shards.
After a change has committed, every shard carries the new version: no write planned on the old
values can commit (docs/design.md, "Clinic settings").
"""

from __future__ import annotations

import zlib
from typing import Any

from clinic.config import settings
from clinic.data.dynamo import batch_get_tables, plain, table
from clinic.data.transactions import Failed, Transaction

ITEM_ID = "clinic"
CHECK_SHARDS = 64  # with the values' item, 65 items in a change's transaction (≤ 100)


class VersionConflict(Exception):
    """The settings changed between read and write."""


def shard_id(doctor_id: str) -> str:
    """The version copy a write about this doctor checks (stable across containers and deploys)."""
    return f"{ITEM_ID}#check#{zlib.crc32(doctor_id.encode()) % CHECK_SHARDS:02d}"


def read() -> dict[str, Any] | None:
    item = table(settings().settings_table).get_item(Key={"id": ITEM_ID}, ConsistentRead=True).get("Item")
    return plain(item) if item else None


def read_with(table_name: str, record_id: str) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """A record (e.g. a doctor) and the settings, read together in one consistent BatchGetItem."""
    name = settings().settings_table
    found = batch_get_tables({table_name: [{"id": record_id}], name: [{"id": ITEM_ID}]})
    record = found.get(table_name) or [None]
    values = found.get(name) or [None]
    return record[0], values[0]


def write(values: dict[str, Any], expected_version: int) -> dict[str, Any]:
    """Replace the settings and every version copy, if nobody changed them since ``expected_version``
    (0: never written), all in one transaction."""
    name = settings().settings_table
    version = expected_version + 1
    item = {**values, "id": ITEM_ID, "version": version}
    put: dict[str, Any] = {"TableName": name, "Item": item}
    if expected_version == 0:
        put["ConditionExpression"] = "attribute_not_exists(id)"
    else:
        put["ConditionExpression"] = "version = :v"
        put["ExpressionAttributeValues"] = {":v": expected_version}
    transaction = Transaction()
    transaction.add({"Put": put}, "settings")
    for shard in range(CHECK_SHARDS):
        copy = {"id": f"{ITEM_ID}#check#{shard:02d}", "version": version}
        transaction.add({"Put": {"TableName": name, "Item": copy}}, "copy", shard)
    try:
        transaction.run()  # conflicts with writes checking a copy are retried, then StillConflicting (503)
    except Failed:
        raise VersionConflict() from None
    return item


def check_action(doctor_id: str, version: int) -> dict[str, Any]:
    """A transaction's check that the settings are still at ``version`` (the values it was planned
    with). A copy that does not exist yet means no change since copies were introduced: the version
    read from the values' item is then current."""
    return {
        "ConditionCheck": {
            "TableName": settings().settings_table,
            "Key": {"id": shard_id(doctor_id)},
            "ConditionExpression": "attribute_not_exists(id) OR version = :v",
            "ExpressionAttributeValues": {":v": version},
        }
    }
