"""Appointment storage. Booking (one appointment or a whole series), rescheduling, cancelling and
the status changes that give a place back are each ONE TransactWriteItems (clinic.data.transactions):
the appointment(s), the doctor's cells (buffers included) and the patient's cells
(clinic.data.locks), the patient's open-appointment counter and the doctor–patient link
(clinic.data.ledger), condition checks that doctor and patient exist and are active — the doctor's
at the calendar version the caller planned with — and the request's audit record. No read decides a
write: the conditions do, atomically, and the failing ones name the error (``Failed``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from boto3.dynamodb.conditions import Attr, Key

from clinic.config import settings
from clinic.data import audit_log, ledger, locks
from clinic.data.dynamo import batch_get, batch_get_keys, page_args, plain, table
from clinic.data.transactions import Failed, Transaction

SCHEDULE_INDEX = "doctor_schedule"  # sparse: only appointments that are not cancelled carry schedule_doctor_id
PATIENT_INDEX = "patient_appointments"
SERIES_INDEX = "series_appointments"  # sparse: only occurrences of a series carry series_id
LOCATION_INDEX = "location_schedule"  # sparse: appointments at a location that are not cancelled
SITE_INDEX = "site_hours"  # on the slot locks: a location's doctors' and resources' hour items

__all__ = ["AppointmentStore", "Failed", "Occupancy", "iso"]


def iso(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def _just_before(end: datetime) -> str:
    """The last second before ``end``: BETWEEN is inclusive, the ranges here are half-open."""
    return iso(end - timedelta(seconds=1))


@dataclass(frozen=True)
class Occupancy:
    """The time an appointment (or hold) holds: its own for the patient, with buffers for the doctor and
    for the rooms and equipment it takes; and where (its location, written on the doctor's and the
    resources' hour items for the ``site_hours`` index)."""

    start: datetime
    end: datetime
    buffer_before: int = 0
    buffer_after: int = 0
    location_id: str | None = None
    resources: tuple[str, ...] = ()  # resource ids

    @classmethod
    def of(cls, item: dict[str, Any]) -> Occupancy:
        from clinic.models.common import parse_utc

        return cls(
            parse_utc(item["start_at"]),
            parse_utc(item["end_at"]),
            int(item.get("buffer_before", 0)),
            int(item.get("buffer_after", 0)),
            item.get("location_id"),
            tuple(r["id"] for r in item.get("resources") or ()),
        )

    def doctor_cells(self) -> list[datetime]:
        return locks.cells(
            self.start - timedelta(minutes=self.buffer_before), self.end + timedelta(minutes=self.buffer_after)
        )

    def patient_cells(self) -> list[datetime]:
        return locks.cells(self.start, self.end)


def check_active(table_name: str, record_id: str, version: int | None = None) -> dict:
    """The record exists and is active (and, for a doctor, is still at the calendar version read)."""
    condition, values = "attribute_exists(id) AND active = :true", {":true": True}
    if version is not None:
        condition += " AND version = :version"
        values[":version"] = version
    return {
        "ConditionCheck": {
            "TableName": table_name,
            "Key": {"id": record_id},
            "ConditionExpression": condition,
            "ExpressionAttributeValues": values,
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
    }


def resource_cells(
    transaction: Transaction,
    table_name: str,
    record_id: str,
    old: Occupancy | None,
    new: Occupancy | None,
    now: int,
    index: int = 0,
    *,
    hold_expiry: int | None = None,
    previous_id: str | None = None,
    convert: bool = False,
) -> None:
    """The cells of the rooms and equipment a record leaves (``old``) and takes (``new``): each resource
    is one more owner of the 5-minute cells, over the record's occupied time (buffers included). A
    resource kept across a reschedule moves like the doctor's cells (overlapping moves work)."""
    site = new.location_id if new else None
    for resource_id in dict.fromkeys((*(old.resources if old else ()), *(new.resources if new else ()))):
        old_cells = old.doctor_cells() if old and resource_id in old.resources else []
        new_cells = new.doctor_cells() if new and resource_id in new.resources else []
        for change in locks.changes(locks.resource_owner(resource_id), old_cells, new_cells, convert=convert):
            action = locks.update_action(
                table_name, change, record_id, now, hold_expiry=hold_expiry, previous_id=previous_id, site=site
            )
            transaction.add(action, "resource_cells", index, resource_id)


def add_place_checks(transaction: Transaction, occupancies: list[Occupancy]) -> None:
    """That the location and the resources a write takes are (still) active: a deactivated one is never
    taken again, whatever a container's copy says (API.md v1.2)."""
    config = settings()
    locations = {o.location_id for o in occupancies if o.location_id}
    for location_id in sorted(locations):
        transaction.add(check_active(config.locations_table, location_id), "location", 0, location_id)
    for resource_id in sorted({r for o in occupancies for r in o.resources}):
        transaction.add(check_active(config.resources_table, resource_id), "resource", 0, resource_id)


def _status_in(states: Iterable[str], values: dict[str, Any]) -> str:
    names = []
    for index, state in enumerate(sorted(states)):
        values[f":state{index}"] = state
        names.append(f":state{index}")
    return f"#status IN ({', '.join(names)})"


class AppointmentStore:
    def __init__(self) -> None:
        config = settings()
        self.appointments_table = config.appointments_table
        self.patients_table = config.patients_table
        self.doctors_table = config.doctors_table
        self.locks_table = config.slot_locks_table
        self.audit_table = config.audit_table

    @property
    def _table(self):
        return table(self.appointments_table)

    # ------------------------------------------------------------------ reads
    def get(self, appointment_id: str) -> dict[str, Any] | None:
        item = self._table.get_item(Key={"id": appointment_id}, ConsistentRead=True).get("Item")
        return plain(item) if item else None

    def get_many(self, ids: list[str]) -> list[dict[str, Any]]:
        """Appointments by id (consistent), those that exist, in no particular order."""
        return batch_get(self.appointments_table, ids)

    def doctor_schedule(
        self, doctor_id: str, start: datetime, end: datetime, limit: int, start_key: dict | None
    ) -> tuple[list[dict], dict | None]:
        """Non-cancelled appointments of a doctor starting in [start, end), by start."""
        condition = Key("schedule_doctor_id").eq(doctor_id) & Key("start_at").between(iso(start), _just_before(end))
        answer = self._table.query(
            IndexName=SCHEDULE_INDEX, KeyConditionExpression=condition, **page_args(limit, start_key)
        )
        return plain(answer.get("Items", [])), answer.get("LastEvaluatedKey")

    def at_location(self, location_id: str, start: datetime, end: datetime) -> list[dict[str, Any]]:
        """Every appointment at a location starting in [start, end) that is not cancelled, by start (the
        sparse ``location_schedule`` index, every page)."""
        condition = Key("schedule_location_id").eq(location_id) & Key("start_at").between(iso(start), _just_before(end))
        kwargs: dict[str, Any] = {"IndexName": LOCATION_INDEX, "KeyConditionExpression": condition}
        found: list[dict[str, Any]] = []
        while True:
            answer = self._table.query(**kwargs)
            found += plain(answer.get("Items", []))
            if "LastEvaluatedKey" not in answer:
                return found
            kwargs["ExclusiveStartKey"] = answer["LastEvaluatedKey"]

    def resource_schedule(
        self, resource: dict[str, Any], start: datetime, end: datetime, limit: int, start_key: dict | None
    ) -> tuple[list[dict], dict | None]:
        """The appointments (not cancelled) that take a resource, starting in [start, end), by start: its
        location's schedule, filtered (a page may hold fewer than ``limit`` and still have a next one)."""
        condition = Key("schedule_location_id").eq(resource["location_id"]) & Key("start_at").between(
            iso(start), _just_before(end)
        )
        answer = self._table.query(
            IndexName=LOCATION_INDEX,
            KeyConditionExpression=condition,
            FilterExpression=Attr("resources").contains({"id": resource["id"], "kind": resource["kind"]}),
            **page_args(limit, start_key),
        )
        return plain(answer.get("Items", [])), answer.get("LastEvaluatedKey")

    def patient_appointments(
        self, patient_id: str, start: datetime, end: datetime, status: str | None, limit: int, start_key: dict | None
    ) -> tuple[list[dict], dict | None]:
        """A patient's appointments starting in [start, end), by start, optionally of one status."""
        condition = Key("patient_id").eq(patient_id) & Key("start_at").between(iso(start), _just_before(end))
        extra: dict[str, Any] = {}
        if status:
            extra["FilterExpression"] = Attr("status").eq(status)
        answer = self._table.query(
            IndexName=PATIENT_INDEX, KeyConditionExpression=condition, **page_args(limit, start_key), **extra
        )
        return plain(answer.get("Items", [])), answer.get("LastEvaluatedKey")

    def links_doctor(self, patient_id: str, doctor_id: str, since: datetime, live: int | None) -> bool:
        """Whether the patient has an appointment with the doctor that is booked or arrived, or one (not
        cancelled) that starts from ``since`` on: a doctor's access window (API.md v1.2). ``live``: how
        many of the pair's appointments are booked or arrived, as their link (read consistently just
        before) counts them, or None where it cannot say. Else queries of the patient's own appointments
        (an index: eventually consistent, but only a just-made change could be missed): those from
        ``since`` on, and — only where the link cannot say — those before it."""
        if live:
            return True
        recent = Key("patient_id").eq(patient_id) & Key("start_at").gte(iso(since))
        if self._any(recent, Attr("doctor_id").eq(doctor_id) & Attr("status").ne("cancelled")):
            return True
        if live == 0:  # none booked or arrived, before the window or in it
            return False
        older = Key("patient_id").eq(patient_id) & Key("start_at").lt(iso(since))
        return self._any(older, Attr("doctor_id").eq(doctor_id) & Attr("status").is_in(["booked", "arrived"]))

    def _any(self, condition, matching) -> bool:
        kwargs: dict[str, Any] = {
            "IndexName": PATIENT_INDEX,
            "KeyConditionExpression": condition,
            "FilterExpression": matching,
            "ProjectionExpression": "id",
        }
        while True:
            answer = self._table.query(**kwargs)
            if answer.get("Items"):
                return True
            if "LastEvaluatedKey" not in answer:
                return False
            kwargs["ExclusiveStartKey"] = answer["LastEvaluatedKey"]

    def series(self, series_id: str) -> list[dict[str, Any]]:
        """A series' occurrences, by start (an index Query: eventually consistent)."""
        items: list[dict] = []
        kwargs: dict[str, Any] = {"IndexName": SERIES_INDEX, "KeyConditionExpression": Key("series_id").eq(series_id)}
        while True:
            answer = self._table.query(**kwargs)
            items += plain(answer.get("Items", []))
            if "LastEvaluatedKey" not in answer:
                return items
            kwargs["ExclusiveStartKey"] = answer["LastEvaluatedKey"]

    def busy(self, owner: str, start: datetime, end: datetime, now: int) -> list[tuple[datetime, datetime]]:
        """The owner's occupied time in the UTC hours touching [start, end), as 5-minute intervals (a
        consistent Query of its slot locks; cells of expired holds are free)."""
        condition = Key("owner").eq(owner) & Key("hour").between(locks.hour_key(start), locks.hour_key(end))
        found: list[tuple[datetime, datetime]] = []
        kwargs: dict[str, Any] = {"KeyConditionExpression": condition, "ConsistentRead": True}
        while True:
            answer = table(self.locks_table).query(**kwargs)
            found += locks.busy_in(answer.get("Items", []), now)
            if "LastEvaluatedKey" not in answer:
                return found
            kwargs["ExclusiveStartKey"] = answer["LastEvaluatedKey"]

    def site_busy(
        self, site: str, start: datetime, end: datetime, now: int
    ) -> dict[str, list[tuple[datetime, datetime]]]:
        """Every doctor's and resource's occupied time at a location in the UTC hours touching [start, end):
        one Query of the ``site_hours`` index (eventually consistent), by owner."""
        condition = Key("site").eq(site) & Key("site_key").between(locks.hour_key(start), locks.hour_key(end) + "~")
        found: dict[str, list[tuple[datetime, datetime]]] = {}
        kwargs: dict[str, Any] = {"IndexName": SITE_INDEX, "KeyConditionExpression": condition}
        while True:
            answer = table(self.locks_table).query(**kwargs)
            for item in answer.get("Items", []):
                found.setdefault(item["owner"], []).extend(locks.busy_in([item], now))
            if "LastEvaluatedKey" not in answer:
                return found
            kwargs["ExclusiveStartKey"] = answer["LastEvaluatedKey"]

    def taken(self, owner: str, start: datetime, end: datetime, now: int) -> dict[str, str]:
        """The owner's taken 5-minute cells in the UTC hours touching [start, end): cell name → holder id
        (a consistent read; cells of expired holds are free)."""
        condition = Key("owner").eq(owner) & Key("hour").between(locks.hour_key(start), locks.hour_key(end))
        taken: dict[str, str] = {}
        kwargs: dict[str, Any] = {"KeyConditionExpression": condition, "ConsistentRead": True}
        while True:
            answer = table(self.locks_table).query(**kwargs)
            for item in answer.get("Items", []):
                taken.update(locks.taken_in(item, now))
            if "LastEvaluatedKey" not in answer:
                return taken
            kwargs["ExclusiveStartKey"] = answer["LastEvaluatedKey"]

    def occupied(
        self,
        wanted: dict[str, list[tuple[datetime, datetime]]],
        now: int,
        patient_id: str | None = None,
        ignore: str = "",
    ) -> tuple[dict[str, list[tuple[datetime, datetime]]], int]:
        """As stored now, in one consistent BatchGetItem (100 keys a call): each owner's occupied time
        in the hours its wanted intervals touch (cells of ``ignore``, the record being moved, left out;
        expired holds too), and — with ``patient_id`` — the patient's open appointments. What a booking
        reads to choose its rooms, and a refused series to name its lowest failing occurrence."""
        hours = {
            (owner, locks.hour_key(c)) for owner, spans in wanted.items() for s, e in spans for c in locks.cells(s, e)
        }
        keys = [{"owner": o, "hour": h} for o, h in sorted(hours)]
        if patient_id:
            keys.append(ledger.open_key(patient_id))
        found: dict[str, list[tuple[datetime, datetime]]] = {owner: [] for owner in wanted}
        held = 0
        for item in batch_get_keys(self.locks_table, keys):
            if item["hour"] == ledger.OPEN:
                held = int(item.get("n", 0))
                continue
            mine = {a for a, v in item.items() if v == ignore} if ignore else set()
            found[item["owner"]] += locks.busy_in([{k: v for k, v in item.items() if k not in mine}], now)
        return found, held

    # ------------------------------------------------------------------ writes
    def _cells(
        self,
        transaction: Transaction,
        appointment_id: str,
        old: Occupancy | None,
        new: Occupancy | None,
        doctor_id: str,
        patient_id: str,
        now: int,
        index: int = 0,
    ) -> None:
        site = new.location_id if new else None
        for owner, kind, old_cells, new_cells, tagged in (
            (
                locks.doctor_owner(doctor_id),
                "doctor_cells",
                old.doctor_cells() if old else [],
                new.doctor_cells() if new else [],
                True,
            ),
            (
                locks.patient_owner(patient_id),
                "patient_cells",
                old.patient_cells() if old else [],
                new.patient_cells() if new else [],
                False,
            ),
        ):
            for change in locks.changes(owner, old_cells, new_cells):
                action = locks.update_action(
                    self.locks_table, change, appointment_id, now, site=site if tagged else None
                )
                transaction.add(action, kind, index)
        resource_cells(transaction, self.locks_table, appointment_id, old, new, now, index)

    def _audit(self, transaction: Transaction, records: list[dict[str, Any]]) -> None:
        for record in records:
            transaction.add(audit_log.put_action(self.audit_table, record), "audit")

    def book(
        self,
        appointments: list[tuple[dict[str, Any], Occupancy]],
        doctor_version: int,
        limit: int,
        now: int,
        audit_records: list[dict[str, Any]],
        settings_check: dict[str, Any] | None = None,
    ) -> None:
        """Book one appointment, or every occurrence of a series, all or nothing (raises Failed).
        ``settings_check``: the condition that the clinic settings planned with are still current."""
        first = appointments[0][0]
        doctor_id, patient_id = first["doctor_id"], first["patient_id"]
        transaction = Transaction()
        transaction.add(check_active(self.doctors_table, doctor_id, doctor_version), "doctor")
        if settings_check is not None:
            transaction.add(settings_check, "settings")
        transaction.add(check_active(self.patients_table, patient_id), "patient")
        add_place_checks(transaction, [o for _, o in appointments])
        for index, (appointment, occupancy) in enumerate(appointments):
            item = {**appointment, "schedule_doctor_id": doctor_id, "version": 1}
            if occupancy.location_id:
                item["schedule_location_id"] = occupancy.location_id
            transaction.add(
                {
                    "Put": {
                        "TableName": self.appointments_table,
                        "Item": item,
                        "ConditionExpression": "attribute_not_exists(id)",
                    }
                },
                "appointment",
                index,
            )
            self._cells(transaction, appointment["id"], None, occupancy, doctor_id, patient_id, now, index)
        transaction.add(ledger.open_change(self.locks_table, patient_id, len(appointments), limit), "open")
        count = len(appointments)
        transaction.add(ledger.link_change(self.locks_table, doctor_id, patient_id, count, live=count), "link")
        self._audit(transaction, audit_records)
        transaction.run()

    def reschedule(
        self,
        current: dict[str, Any],
        new: Occupancy,
        doctor_version: int,
        movable: frozenset[str],
        updated_at: str,
        now: int,
        audit_records: list[dict[str, Any]],
        settings_check: dict[str, Any] | None = None,
        resources: list[dict[str, str]] | None = None,
    ) -> dict[str, Any]:
        """Move the appointment to ``new`` (its time, location and resources: ``resources`` as the
        appointment lists them, ``[{"id","kind"}]``), freeing what it no longer holds, all at once."""
        resources = resources or []
        values: dict[str, Any] = {
            ":start": iso(new.start),
            ":end": iso(new.end),
            ":duration": int((new.end - new.start).total_seconds() // 60),
            ":now": updated_at,
            ":one": 1,
            ":version": current["version"],
            ":resources": resources,
        }
        where = "REMOVE location_id, schedule_location_id"
        if new.location_id:
            values[":location"] = new.location_id
            where = ""
        transaction = Transaction()
        transaction.add(
            {
                "Update": {
                    "TableName": self.appointments_table,
                    "Key": {"id": current["id"]},
                    "UpdateExpression": "SET start_at = :start, end_at = :end, duration_minutes = :duration, "
                    "updated_at = :now, version = version + :one, resources = :resources"
                    + (", location_id = :location, schedule_location_id = :location " if new.location_id else " ")
                    + where,
                    "ConditionExpression": f"version = :version AND {_status_in(movable, values)}",
                    "ExpressionAttributeNames": {"#status": "status"},
                    "ExpressionAttributeValues": values,
                }
            },
            "appointment",
        )
        transaction.add(check_active(self.doctors_table, current["doctor_id"], doctor_version), "doctor")
        transaction.add(check_active(self.patients_table, current["patient_id"]), "patient")
        if settings_check is not None:
            transaction.add(settings_check, "settings")
        add_place_checks(transaction, [new])
        self._cells(
            transaction, current["id"], Occupancy.of(current), new, current["doctor_id"], current["patient_id"], now
        )
        self._audit(transaction, audit_records)
        transaction.run()
        moved = {
            **current,
            "start_at": values[":start"],
            "end_at": values[":end"],
            "duration_minutes": values[":duration"],
            "updated_at": updated_at,
            "version": current["version"] + 1,
            "resources": resources,
        }
        moved.pop("location_id", None)
        moved.pop("schedule_location_id", None)
        if new.location_id:
            moved["location_id"] = moved["schedule_location_id"] = new.location_id
        return moved

    def cancel(
        self,
        appointments: list[dict[str, Any]],
        cancellable: frozenset[str],
        reason: str,
        updated_at: str,
        request_mark: str,
        audit_records: list[dict[str, Any]],
        settings_check: dict[str, Any] | None = None,
    ) -> list[dict[str, Any]]:
        """Cancel one appointment, or several of one patient (a series), all or nothing. ``request_mark``
        identifies the cancelling request (derived from its Idempotency-Key, if any), so that request's
        retry can tell its own committed cancel from someone else's. ``settings_check``: when the
        settings decided it (a patient's cutoff), the condition that they are still current."""
        transaction = Transaction()
        if settings_check is not None:
            transaction.add(settings_check, "settings")
        by_doctor: dict[str, int] = {}
        for index, current in enumerate(appointments):
            values: dict[str, Any] = {
                ":cancelled": "cancelled",
                ":reason": reason,
                ":now": updated_at,
                ":mark": request_mark,
                ":one": 1,
                ":version": current["version"],
            }
            transaction.add(
                {
                    "Update": {
                        "TableName": self.appointments_table,
                        "Key": {"id": current["id"]},
                        "UpdateExpression": "SET #status = :cancelled, cancellation_reason = :reason, "
                        "updated_at = :now, cancelled_by_request = :mark, version = version + :one "
                        "REMOVE schedule_doctor_id, schedule_location_id",
                        "ConditionExpression": f"version = :version AND {_status_in(cancellable, values)}",
                        "ExpressionAttributeNames": {"#status": "status"},
                        "ExpressionAttributeValues": values,
                    }
                },
                "appointment",
                index,
            )
            self._cells(
                transaction,
                current["id"],
                Occupancy.of(current),
                None,
                current["doctor_id"],
                current["patient_id"],
                0,
                index,
            )
            by_doctor[current["doctor_id"]] = by_doctor.get(current["doctor_id"], 0) + 1
        patient_id = appointments[0]["patient_id"]
        transaction.add(ledger.open_change(self.locks_table, patient_id, -len(appointments)), "open")
        for doctor_id, count in by_doctor.items():
            # only a booked appointment is cancelled: it was live
            transaction.add(ledger.link_change(self.locks_table, doctor_id, patient_id, -count, live=-count), "link")
        self._audit(transaction, audit_records)
        transaction.run()
        cancelled = []
        for current in appointments:
            updated = {
                **current,
                "status": "cancelled",
                "cancellation_reason": reason,
                "updated_at": updated_at,
                "cancelled_by_request": request_mark,
                "version": current["version"] + 1,
            }
            updated.pop("schedule_doctor_id", None)
            updated.pop("schedule_location_id", None)
            cancelled.append(updated)
        return cancelled

    def change_status(
        self,
        current: dict[str, Any],
        target: str,
        allowed_from: frozenset[str],
        frees_a_place: bool,
        ends_live: bool,
        updated_at: str,
        request_mark: str,
        audit_records: list[dict[str, Any]],
    ) -> dict[str, Any]:
        """A status change that frees no time (arrived, fulfilled, noshow); it gives the patient's place
        back when the appointment stops being open, and moves it from live to done on the doctor–patient
        link when it stops being booked or arrived (``ends_live``). ``request_mark`` is stored with it: if the write
        committed and its answer was lost, the retry's failed condition can be told apart from
        somebody else's change (DynamoDB also answers a retried ClientRequestToken as the same write)."""
        values: dict[str, Any] = {":target": target, ":now": updated_at, ":one": 1, ":mark": request_mark}
        transaction = Transaction()
        transaction.add(
            {
                "Update": {
                    "TableName": self.appointments_table,
                    "Key": {"id": current["id"]},
                    "UpdateExpression": "SET #status = :target, updated_at = :now, status_changed_by_request = :mark, "
                    "version = version + :one",
                    "ConditionExpression": f"attribute_exists(id) AND {_status_in(allowed_from, values)}",
                    "ExpressionAttributeNames": {"#status": "status"},
                    "ExpressionAttributeValues": values,
                }
            },
            "appointment",
        )
        if frees_a_place:
            transaction.add(ledger.open_change(self.locks_table, current["patient_id"], -1), "open")
        if ends_live:  # fulfilled or no-show: still tying them, no longer booked or arrived
            link = ledger.link_change(self.locks_table, current["doctor_id"], current["patient_id"], 0, live=-1, done=1)
            transaction.add(link, "link")
        self._audit(transaction, audit_records)
        transaction.run()
        return {
            **current,
            "status": target,
            "updated_at": updated_at,
            "status_changed_by_request": request_mark,
            "version": current["version"] + 1,
        }
