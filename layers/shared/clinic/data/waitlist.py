"""Waitlist entries. ``waiting_doctor_id`` is present only while an entry waits, which makes the
doctor's queue (index ``doctor_queue``, by ``queued_at``) a sparse index of waiting entries alone —
the matcher reads the oldest first without scanning. An offer is a hold (clinic.data.holds): placing
it moves the entry to ``offered`` in the hold's own transaction, confirming it to ``booked``,
releasing or expiring it back to ``waiting`` (queued last)."""

from __future__ import annotations

from typing import Any

from boto3.dynamodb.conditions import Key

from clinic.config import settings
from clinic.data import audit_log, quota
from clinic.data.dynamo import page_args, plain, table
from clinic.data.transactions import Failed, Transaction

QUEUE_INDEX = "doctor_queue"
PATIENT_INDEX = "patient_entries"


class Changed(Exception):
    """The entry is no longer in the state the write expected."""


def _table():
    return table(settings().waitlist_table)


def get(entry_id: str) -> dict[str, Any] | None:
    item = _table().get_item(Key={"id": entry_id}, ConsistentRead=True).get("Item")
    return plain(item) if item else None


def create(
    entry: dict[str, Any],
    audit_records: list[dict[str, Any]],
    extra: tuple[tuple[dict[str, Any], str], ...] = (),
) -> None:
    """Put a new entry (never over an existing one), waiting in its doctor's queue, with its audit
    record and ``extra`` (action, role) pairs (its quota cell, the settings' check) in one transaction
    (raises transactions.Failed)."""
    transaction = Transaction()
    transaction.add(
        {
            "Put": {
                "TableName": settings().waitlist_table,
                "Item": {**entry, "waiting_doctor_id": entry["doctor_id"]},
                "ConditionExpression": "attribute_not_exists(id)",
            }
        },
        "entry",
    )
    for action, role in extra:
        transaction.add(action, role)
    _audit(transaction, audit_records)
    transaction.run()


def _audit(transaction: Transaction, records: list[dict[str, Any]]) -> None:
    for record in records:
        transaction.add(audit_log.put_action(settings().audit_table, record), "audit")


def _leaves(entry: dict[str, Any], to: str, at: str) -> dict[str, Any]:
    """A waiting entry leaves the queue for ``to`` (cancelled, expired)."""
    return {
        "Update": {
            "TableName": settings().waitlist_table,
            "Key": {"id": entry["id"]},
            "UpdateExpression": "SET #status = :to, updated_at = :at REMOVE waiting_doctor_id, offer",
            "ConditionExpression": "#status = :waiting",
            "ExpressionAttributeNames": {"#status": "status"},
            "ExpressionAttributeValues": {":to": to, ":waiting": "waiting", ":at": at},
        }
    }


def cancel(entry: dict[str, Any], at: str, audit_records: list[dict[str, Any]]) -> None:
    """Leave the waitlist (only a waiting entry: an offered one is left through its hold's release),
    giving back its cell of the patient's waitlist quota, with its audit record, in one transaction."""
    transaction = Transaction()
    transaction.add(_leaves(entry, "cancelled", at), "entry")
    if entry.get("quota_cell") is not None:  # only while still its own: past the window it may be another's
        cell = int(entry["quota_cell"])
        transaction.add(quota.free(entry["patient_id"], quota.WAITLIST, cell, holder_id=entry["id"]), "quota")
    _audit(transaction, audit_records)
    try:
        transaction.run()
    except Failed:
        raise Changed() from None


def expire(entry: dict[str, Any], at: str, audit_records: list[dict[str, Any]]) -> None:
    """Record that a waiting entry's window has passed, taking it out of the doctor's queue (an
    expired entry left there would be read, and skipped, by every matcher run ahead of newer ones).
    Its quota cell stopped counting when the window ended: nothing to give back."""
    transaction = Transaction()
    transaction.add(_leaves(entry, "expired", at), "entry")  # the window (``to``, never changed): the caller's
    _audit(transaction, audit_records)
    try:
        transaction.run()
    except Failed:
        raise Changed() from None


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
