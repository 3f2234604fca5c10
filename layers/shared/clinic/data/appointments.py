"""Appointment storage. Booking, cancelling and rescheduling are each ONE TransactWriteItems:
the appointment, the doctor's and the patient's slot locks (see ``clinic.data.locks``) and
condition checks that doctor and patient exist and are active. No read decides a booking: the
conditions do, atomically, and the failing one names the error.
"""

from __future__ import annotations

import uuid

import random
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from boto3.dynamodb.conditions import Attr, Key
from botocore.exceptions import ClientError

from clinic.config import settings
from clinic.data import locks
from clinic.data.dynamo import client, page_args, plain, table

SCHEDULE_INDEX = "doctor_schedule"  # sparse: only appointments that are not cancelled carry schedule_doctor_id
PATIENT_INDEX = "patient_appointments"
_CONFLICT_ATTEMPTS = 4  # TransactionConflict: another transaction held one of our items; try again shortly


class DoctorMissing(Exception):
    def __init__(self, inactive: bool) -> None:
        self.inactive = inactive


class PatientMissing(Exception):
    def __init__(self, inactive: bool) -> None:
        self.inactive = inactive


class DoctorBusy(Exception):
    """One of the doctor's cells is taken."""


class PatientBusy(Exception):
    """One of the patient's cells is taken."""


class AppointmentChanged(Exception):
    """The appointment's version or status is no longer what the write expected."""


class StillConflicting(Exception):
    """Other transactions kept holding our items; the client should retry."""


@dataclass(frozen=True)
class Tables:
    """The table names a function was given (None for the ones its route does not use)."""

    appointments: str | None
    patients: str | None
    doctors: str | None
    locks: str | None

    @classmethod
    def from_settings(cls) -> "Tables":
        config = settings()
        return cls(config.appointments_table, config.patients_table, config.doctors_table, config.slot_locks_table)


def iso(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def _active_check(table_name: str, record_id: str) -> dict:
    return {"ConditionCheck": {
        "TableName": table_name,
        "Key": {"id": record_id},
        "ConditionExpression": "attribute_exists(id) AND active = :true",
        "ExpressionAttributeValues": {":true": True},
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
    }}


class AppointmentStore:
    def __init__(self, tables: Tables | None = None) -> None:
        self.tables = tables or Tables.from_settings()

    @property
    def _table(self):
        return table(self.tables.appointments)

    # ------------------------------------------------------------------ reads
    def get(self, appointment_id: str) -> dict[str, Any] | None:
        item = self._table.get_item(Key={"id": appointment_id}, ConsistentRead=True).get("Item")
        return plain(item) if item else None

    def doctor_schedule(self, doctor_id: str, start: datetime, end: datetime, limit: int,
                        start_key: dict | None) -> tuple[list[dict], dict | None]:
        """Non-cancelled appointments of a doctor starting in [start, end), by start."""
        condition = Key("schedule_doctor_id").eq(doctor_id) & Key("start_at").between(iso(start), _just_before(end))
        answer = self._table.query(IndexName=SCHEDULE_INDEX, KeyConditionExpression=condition,
                                   **page_args(limit, start_key))
        return plain(answer.get("Items", [])), answer.get("LastEvaluatedKey")

    def patient_appointments(self, patient_id: str, start: datetime, end: datetime, status: str | None,
                             limit: int, start_key: dict | None) -> tuple[list[dict], dict | None]:
        """A patient's appointments starting in [start, end), by start, optionally of one status."""
        condition = Key("patient_id").eq(patient_id) & Key("start_at").between(iso(start), _just_before(end))
        extra: dict[str, Any] = {}
        if status:
            extra["FilterExpression"] = Attr("status").eq(status)
        answer = self._table.query(IndexName=PATIENT_INDEX, KeyConditionExpression=condition,
                                   **page_args(limit, start_key), **extra)
        return plain(answer.get("Items", [])), answer.get("LastEvaluatedKey")

    def has_appointment_with(self, patient_id: str, doctor_id: str) -> bool:
        """Whether the patient has any appointment, in any status, with the doctor."""
        try:
            condition = Key("patient_id").eq(str(uuid.UUID(patient_id)))
        except ValueError:
            return False
        kwargs: dict[str, Any] = {"IndexName": PATIENT_INDEX, "KeyConditionExpression": condition,
                                  "FilterExpression": Attr("doctor_id").eq(doctor_id), "ProjectionExpression": "id"}
        while True:
            answer = self._table.query(**kwargs)
            if answer.get("Items"):
                return True
            if "LastEvaluatedKey" not in answer:
                return False
            kwargs["ExclusiveStartKey"] = answer["LastEvaluatedKey"]

    def taken_cells(self, owner: str, start: datetime, end: datetime) -> set[str]:
        """ISO instants of the owner's taken 5-minute cells in the UTC hours touching [start, end)."""
        condition = Key("owner").eq(owner) & Key("hour").between(locks.hour_key(start), locks.hour_key(end))
        lock_table = table(self.tables.locks)
        taken: set[str] = set()
        kwargs: dict[str, Any] = {"KeyConditionExpression": condition, "ConsistentRead": True}
        while True:
            answer = lock_table.query(**kwargs)
            for item in answer.get("Items", []):
                for attribute in item:
                    if attribute.startswith("m") and len(attribute) == 3:
                        taken.add(f"{item['hour']}:{attribute[1:]}")
            if "LastEvaluatedKey" not in answer:
                return taken
            kwargs["ExclusiveStartKey"] = answer["LastEvaluatedKey"]

    # ------------------------------------------------------------------ writes
    def book(self, appointment: dict[str, Any], start: datetime, end: datetime) -> None:
        cells = locks.cells(start, end)
        doctor_changes = locks.changes(locks.doctor_owner(appointment["doctor_id"]), [], cells)
        patient_changes = locks.changes(locks.patient_owner(appointment["patient_id"]), [], cells)
        item = {**appointment, "schedule_doctor_id": appointment["doctor_id"], "version": 1}
        actions = [
            {"Put": {"TableName": self.tables.appointments, "Item": item,
                     "ConditionExpression": "attribute_not_exists(id)"}},
            _active_check(self.tables.doctors, appointment["doctor_id"]),
            _active_check(self.tables.patients, appointment["patient_id"]),
        ]
        self._transact(actions, doctor_changes, patient_changes, appointment["id"])

    def reschedule(self, current: dict[str, Any], start: datetime, end: datetime, updated_at: str) -> dict[str, Any]:
        old_cells = locks.cells(_parse(current["start_at"]), _parse(current["end_at"]))
        new_cells = locks.cells(start, end)
        doctor_changes = locks.changes(locks.doctor_owner(current["doctor_id"]), old_cells, new_cells)
        patient_changes = locks.changes(locks.patient_owner(current["patient_id"]), old_cells, new_cells)
        duration = int((end - start).total_seconds() // 60)
        actions = [
            {"Update": {
                "TableName": self.tables.appointments,
                "Key": {"id": current["id"]},
                "UpdateExpression": "SET start_at = :start, end_at = :end, duration_minutes = :duration, "
                                    "updated_at = :now, version = version + :one",
                "ConditionExpression": "version = :version AND #status = :booked",
                "ExpressionAttributeNames": {"#status": "status"},
                "ExpressionAttributeValues": {":start": iso(start), ":end": iso(end), ":duration": duration,
                                              ":now": updated_at, ":one": 1, ":version": current["version"],
                                              ":booked": "booked"},
            }},
            _active_check(self.tables.doctors, current["doctor_id"]),
            _active_check(self.tables.patients, current["patient_id"]),
        ]
        self._transact(actions, doctor_changes, patient_changes, current["id"])
        return {**current, "start_at": iso(start), "end_at": iso(end), "duration_minutes": duration,
                "updated_at": updated_at, "version": current["version"] + 1}

    def cancel(self, current: dict[str, Any], reason: str, updated_at: str, request_mark: str) -> dict[str, Any]:
        """``request_mark`` identifies the cancelling request (derived from its Idempotency-Key, if
        any), so that request's retry can tell its own committed cancel from someone else's."""
        old_cells = locks.cells(_parse(current["start_at"]), _parse(current["end_at"]))
        doctor_changes = locks.changes(locks.doctor_owner(current["doctor_id"]), old_cells, [])
        patient_changes = locks.changes(locks.patient_owner(current["patient_id"]), old_cells, [])
        actions = [{"Update": {
            "TableName": self.tables.appointments,
            "Key": {"id": current["id"]},
            "UpdateExpression": "SET #status = :cancelled, cancellation_reason = :reason, updated_at = :now, "
                                "cancelled_by_request = :mark, version = version + :one REMOVE schedule_doctor_id",
            "ConditionExpression": "version = :version AND #status = :booked",
            "ExpressionAttributeNames": {"#status": "status"},
            "ExpressionAttributeValues": {":cancelled": "cancelled", ":reason": reason, ":now": updated_at,
                                          ":mark": request_mark, ":one": 1, ":version": current["version"],
                                          ":booked": "booked"},
        }}]
        self._transact(actions, doctor_changes, patient_changes, current["id"])
        updated = {**current, "status": "cancelled", "cancellation_reason": reason, "updated_at": updated_at,
                   "cancelled_by_request": request_mark, "version": current["version"] + 1}
        updated.pop("schedule_doctor_id", None)
        return updated

    def change_status(self, appointment_id: str, target: str, allowed_from: frozenset[str], updated_at: str,
                      request_mark: str) -> dict:
        """A status change that frees no time (arrived, fulfilled, noshow): one conditional update.
        ``request_mark`` is stored with it, so that when botocore retries an update whose answer was
        lost, the failed condition can be told apart from somebody else's change."""
        names = {"#status": "status"}
        values: dict[str, Any] = {":target": target, ":now": updated_at, ":one": 1, ":mark": request_mark}
        placeholders = []
        for index, state in enumerate(sorted(allowed_from)):
            values[f":from{index}"] = state
            placeholders.append(f":from{index}")
        try:
            answer = self._table.update_item(
                Key={"id": appointment_id},
                UpdateExpression="SET #status = :target, updated_at = :now, status_changed_by_request = :mark, "
                                 "version = version + :one",
                ConditionExpression=f"attribute_exists(id) AND #status IN ({', '.join(placeholders)})",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise AppointmentChanged() from None
            raise
        return plain(answer["Attributes"])

    # ------------------------------------------------------------------ the one transaction
    def _transact(self, head: list[dict], doctor_changes: list[locks.BucketChange],
                  patient_changes: list[locks.BucketChange], appointment_id: str) -> None:
        """``head`` is [appointment write, doctor check?, patient check?]; then the doctor's lock
        items, then the patient's. A cancelled transaction's reasons, in that order, name the error."""
        doctor_actions = [locks.update_action(self.tables.locks, c, appointment_id) for c in doctor_changes]
        patient_actions = [locks.update_action(self.tables.locks, c, appointment_id) for c in patient_changes]
        actions = head + doctor_actions + patient_actions
        doctor_range = range(len(head), len(head) + len(doctor_actions))
        for attempt in range(_CONFLICT_ATTEMPTS):
            try:
                client().transact_write_items(TransactItems=actions)
                return
            except ClientError as error:
                if error.response["Error"]["Code"] != "TransactionCanceledException":
                    raise
                reasons = error.response.get("CancellationReasons") or []
                codes = [r.get("Code", "None") for r in reasons]
                if "ConditionalCheckFailed" in codes:
                    _raise_for(reasons, head, doctor_range)
                if "TransactionConflict" in codes and attempt + 1 < _CONFLICT_ATTEMPTS:
                    time.sleep(random.uniform(0.02, 0.1) * (attempt + 1))  # noqa: S311  # jitter  # nosec B311
                    continue
                if "TransactionConflict" in codes:
                    raise StillConflicting() from None
                raise


def _raise_for(reasons: list[dict], head: list[dict], doctor_range: range) -> None:
    """Map the failed conditions to one exception, in precedence order. ``head`` is
    [appointment write, doctor check, patient check] (cancel has the appointment write only)."""
    failed = {i for i, r in enumerate(reasons) if r.get("Code") == "ConditionalCheckFailed"}
    if 0 in failed:
        raise AppointmentChanged()
    if 1 in failed and len(head) > 1:
        raise DoctorMissing(inactive=bool(reasons[1].get("Item")))
    if 2 in failed and len(head) > 2:
        raise PatientMissing(inactive=bool(reasons[2].get("Item")))
    if failed & set(doctor_range):
        raise DoctorBusy()
    raise PatientBusy()


def _just_before(end: datetime) -> str:
    """The last second before ``end``: BETWEEN is inclusive, the ranges here are half-open."""
    from datetime import timedelta

    return iso(end - timedelta(seconds=1))


def _parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))
