"""Waitlist entries. ``waiting_doctor_id`` is present only while an entry waits, which makes the
doctor's queue (index ``doctor_queue``, by ``queued_at``) a sparse index of waiting entries alone —
the matcher reads the oldest first without scanning. An offer is a hold (clinic.data.holds): placing
it moves the entry to ``offered`` in the hold's own transaction, confirming it to ``booked``,
releasing or expiring it back to ``waiting`` (queued last)."""

from __future__ import annotations

from typing import Any

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from clinic.config import settings
from clinic.data.dynamo import page_args, plain, table

QUEUE_INDEX = "doctor_queue"
PATIENT_INDEX = "patient_entries"


class Changed(Exception):
    """The entry is no longer in the state the write expected."""


def _table():
    return table(settings().waitlist_table)


def get(entry_id: str) -> dict[str, Any] | None:
    item = _table().get_item(Key={"id": entry_id}, ConsistentRead=True).get("Item")
    return plain(item) if item else None


def create(entry: dict[str, Any]) -> None:
    """Put a new entry (never over an existing one), waiting in its doctor's queue."""
    _table().put_item(
        Item={**entry, "waiting_doctor_id": entry["doctor_id"]}, ConditionExpression="attribute_not_exists(id)"
    )


def cancel(entry: dict[str, Any], at: str) -> None:
    """Leave the waitlist (only a waiting entry: an offered one is left through its hold's release)."""
    try:
        _table().update_item(
            Key={"id": entry["id"]},
            UpdateExpression="SET #status = :cancelled, updated_at = :at REMOVE waiting_doctor_id, offer",
            ConditionExpression="#status = :waiting",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={":cancelled": "cancelled", ":waiting": "waiting", ":at": at},
        )
    except ClientError as error:
        if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
            raise Changed() from None
        raise


def expire(entry: dict[str, Any], at: str) -> None:
    """Record that a waiting entry's window has passed, taking it out of the doctor's queue (an
    expired entry left there would be read, and skipped, by every matcher run ahead of newer ones)."""
    try:
        _table().update_item(
            Key={"id": entry["id"]},
            UpdateExpression="SET #status = :expired, updated_at = :at REMOVE waiting_doctor_id",
            ConditionExpression="#status = :waiting",  # the window (``to``, never changed) is checked by the caller
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={":expired": "expired", ":waiting": "waiting", ":at": at},
        )
    except ClientError as error:
        if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
            raise Changed() from None
        raise


def queue(doctor_id: str, limit: int, start_key: dict | None = None) -> tuple[list[dict[str, Any]], dict | None]:
    """The doctor's waiting entries, oldest first (an index: eventually consistent; writes decide)."""
    answer = _table().query(
        IndexName=QUEUE_INDEX,
        KeyConditionExpression=Key("waiting_doctor_id").eq(doctor_id),
        **page_args(limit, start_key),
    )
    return plain(answer.get("Items", [])), answer.get("LastEvaluatedKey")


def of_patient(patient_id: str, limit: int, start_key: dict | None) -> tuple[list[dict[str, Any]], dict | None]:
    answer = _table().query(
        IndexName=PATIENT_INDEX, KeyConditionExpression=Key("patient_id").eq(patient_id), **page_args(limit, start_key)
    )
    return plain(answer.get("Items", [])), answer.get("LastEvaluatedKey")
