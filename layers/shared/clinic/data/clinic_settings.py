"""The clinic settings item: one record (``id = "clinic"``) with a version for optimistic updates."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from clinic.config import settings
from clinic.data.dynamo import plain, table

ITEM_ID = "clinic"


class VersionConflict(Exception):
    """The settings changed between read and write."""


def read() -> dict[str, Any] | None:
    item = table(settings().settings_table).get_item(Key={"id": ITEM_ID}, ConsistentRead=True).get("Item")
    return plain(item) if item else None


def write(values: dict[str, Any], expected_version: int) -> dict[str, Any]:
    """Replace the settings, if nobody changed them since ``expected_version`` (0: never written)."""
    item = {**values, "id": ITEM_ID, "version": expected_version + 1}
    condition = "attribute_not_exists(id)" if expected_version == 0 else "version = :v"
    extra = {} if expected_version == 0 else {"ExpressionAttributeValues": {":v": expected_version}}
    try:
        table(settings().settings_table).put_item(Item=item, ConditionExpression=condition, **extra)
    except ClientError as error:
        if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
            raise VersionConflict() from None
        raise
    return item
