"""A doctor's time off, kept on the doctor's own item (a list), so one read of the doctor gives
everything a booking is checked against, and every change bumps the doctor's calendar version —
the version every booking's transaction checks. A time off created while bookings race into the
same hours therefore either commits first (and the booking, its condition failed, plans again and
meets DOCTOR_AWAY) or after (and the booking is already in the slot locks it reads next).
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from clinic.config import settings
from clinic.data.dynamo import plain, table


class VersionConflict(Exception):
    """The doctor changed since it was read (or the entry moved); read again."""


class DoctorMissing(Exception):
    pass


def add(doctor_id: str, entry: dict[str, Any], expected_version: int, updated_at: str) -> dict[str, Any]:
    """Append ``entry``; answers the doctor as it is now."""
    return _update(
        doctor_id,
        "SET time_off = list_append(if_not_exists(time_off, :empty), :entry), "
        "version = version + :one, updated_at = :now",
        "attribute_exists(id) AND version = :version",
        {":empty": [], ":entry": [entry], ":one": 1, ":now": updated_at, ":version": expected_version},
    )


def remove(doctor_id: str, index: int, entry_id: str, expected_version: int, updated_at: str) -> dict[str, Any]:
    """Remove the entry at ``index`` (it must still be ``entry_id``); answers the doctor as it is now."""
    return _update(
        doctor_id,
        f"REMOVE time_off[{index}] SET version = version + :one, updated_at = :now",
        f"attribute_exists(id) AND version = :version AND time_off[{index}].id = :entry",
        {":one": 1, ":now": updated_at, ":version": expected_version, ":entry": entry_id},
    )


def _update(doctor_id: str, expression: str, condition: str, values: dict[str, Any]) -> dict[str, Any]:
    try:
        answer = table(settings().doctors_table).update_item(
            Key={"id": doctor_id},
            UpdateExpression=expression,
            ConditionExpression=condition,
            ExpressionAttributeValues=values,
            ReturnValues="ALL_NEW",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    except ClientError as error:
        if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
            if not error.response.get("Item"):
                raise DoctorMissing() from None
            raise VersionConflict() from None
        raise
    return plain(answer["Attributes"])
