"""Hold storage. A hold occupies its doctor's and patient's cells exactly like an appointment, with
its expiry written in each cell (clinic.data.locks): the conditions of every other booking, hold and
reschedule compare that expiry with their own time, so the time is free again the instant it passes.
Placing, confirming, releasing and expiring are each ONE transaction, like the appointments'.

A hold's ``status`` is what was last written: ``held``, ``confirmed``, ``released`` or ``expired``
(written by the expiry worker when its schedule fires). Readers report ``expired`` as soon as
``expires_at`` has passed, whatever the stored status still says (clinic.services.holds).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from clinic.config import settings
from clinic.data import audit_log, ledger, locks, quota
from clinic.data.appointments import Occupancy, add_place_checks, check_active
from clinic.data.dynamo import batch_get_keys, plain, table
from clinic.data.transactions import Transaction

PURGE_AFTER_SECONDS = 30 * 24 * 3600  # TTL housekeeping, long after expiry; never how a hold expires


class HoldStore:
    def __init__(self) -> None:
        config = settings()
        self.holds_table = config.holds_table
        self.appointments_table = config.appointments_table
        self.patients_table = config.patients_table
        self.doctors_table = config.doctors_table
        self.locks_table = config.slot_locks_table
        self.audit_table = config.audit_table
        self.waitlist_table = config.waitlist_table

    def get(self, hold_id: str) -> dict[str, Any] | None:
        item = table(self.holds_table).get_item(Key={"id": hold_id}, ConsistentRead=True).get("Item")
        return plain(item) if item else None

    # ------------------------------------------------------------------ pieces of a transaction
    def _cells(
        self,
        transaction: Transaction,
        hold_id: str,
        occupancy: Occupancy,
        doctor_id: str,
        patient_id: str,
        now: int,
        *,
        expires: int | None = None,
        convert_to: str | None = None,
        free: dict[str, list[datetime]] | None = None,
    ) -> None:
        owners = [
            (locks.doctor_owner(doctor_id), "doctor_cells", occupancy.doctor_cells(), ""),
            (locks.patient_owner(patient_id), "patient_cells", occupancy.patient_cells(), ""),
            *((locks.resource_owner(r), "resource_cells", occupancy.doctor_cells(), r) for r in occupancy.resources),
        ]
        for owner, kind, cells, ref in owners:
            site = occupancy.location_id if kind != "patient_cells" else None
            if free is not None:  # release or expiry: only the cells the hold still holds
                for change in locks.changes(owner, free.get(owner, []), []):
                    action = locks.update_action(self.locks_table, change, hold_id, now, previous_id=hold_id)
                    transaction.add(action, kind, 0, ref)
            elif convert_to is not None:  # confirm: the hold's cells become the appointment's
                for change in locks.changes(owner, cells, cells, convert=True):
                    action = locks.update_action(
                        self.locks_table, change, convert_to, now, previous_id=hold_id, site=site
                    )
                    transaction.add(action, kind, 0, ref)
            else:  # place
                for change in locks.changes(owner, [], cells):
                    action = locks.update_action(self.locks_table, change, hold_id, now, hold_expiry=expires, site=site)
                    transaction.add(action, kind, 0, ref)

    def _audit(self, transaction: Transaction, records: list[dict[str, Any]]) -> None:
        for record in records:
            transaction.add(audit_log.put_action(self.audit_table, record), "audit")

    def _hold_moves(
        self,
        hold: dict[str, Any],
        target: str,
        now: int,
        extra: str = "",
        values: dict[str, Any] | None = None,
        unexpired: bool = True,
    ) -> dict[str, Any]:
        """The hold goes from ``held`` to ``target``; before its expiry (``unexpired``) or after it."""
        condition = "#status = :held AND expires_epoch " + ("> :now" if unexpired else "<= :now")
        return {
            "Update": {
                "TableName": self.holds_table,
                "Key": {"id": hold["id"]},
                "UpdateExpression": "SET #status = :target, updated_at = :updated, version = version + :one" + extra,
                "ConditionExpression": condition,
                "ExpressionAttributeNames": {"#status": "status"},
                "ExpressionAttributeValues": {
                    ":held": "held",
                    ":target": target,
                    ":now": now,
                    ":one": 1,
                    ":updated": hold["updated_at"],
                    **(values or {}),
                },
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }
        }

    def _entry_moves(self, transaction: Transaction, hold: dict[str, Any], to: str, at: str) -> None:
        """The waitlist entry whose offer this hold is: booked (confirmed), or waiting again, queued
        last (``waiting_doctor_id`` puts it back in the doctor's sparse queue index)."""
        entry_id, hold_id = hold.get("waitlist_entry_id"), hold["id"]
        if not entry_id:
            return
        if to == "booked" or to == "cancelled":
            expression, values = "SET #status = :to, updated_at = :at REMOVE offer", {":to": to, ":at": at}
        else:
            expression = (
                "SET #status = :to, updated_at = :at, queued_at = :at, waiting_doctor_id = :doctor REMOVE offer"
            )
            values = {":to": to, ":at": at, ":doctor": hold["doctor_id"]}
        transaction.add(
            {
                "Update": {
                    "TableName": self.waitlist_table,
                    "Key": {"id": entry_id},
                    "UpdateExpression": expression,
                    "ConditionExpression": "#status = :offered AND offer.hold_id = :hold",
                    "ExpressionAttributeNames": {"#status": "status"},
                    "ExpressionAttributeValues": {**values, ":offered": "offered", ":hold": hold_id},
                }
            },
            "entry",
        )

    # ------------------------------------------------------------------ writes
    def place(
        self,
        hold: dict[str, Any],
        occupancy: Occupancy,
        doctor_version: int,
        limit: int,
        now: int,
        audit_records: list[dict[str, Any]],
        entry_offer: dict[str, Any] | None = None,
        extra: tuple[tuple[dict[str, Any], str], ...] = (),
    ) -> None:
        """Put the hold and take its cells until it expires (raises transactions.Failed).
        ``entry_offer``: the waitlist entry this hold is offered to (it must still be waiting); the
        entry's waitlist quota cell then counts at least as long as the offer lasts. ``extra``: more
        (action, role) pairs for the same transaction (the settings' check, the hold quota's cell)."""
        transaction = Transaction()
        for action, role in extra:
            transaction.add(action, role)
        transaction.add(check_active(self.doctors_table, hold["doctor_id"], doctor_version), "doctor")
        transaction.add(check_active(self.patients_table, hold["patient_id"]), "patient")
        add_place_checks(transaction, [occupancy])
        item = {**hold, "version": 1, "purge_at": hold["expires_epoch"] + PURGE_AFTER_SECONDS}
        transaction.add(
            {"Put": {"TableName": self.holds_table, "Item": item, "ConditionExpression": "attribute_not_exists(id)"}},
            "hold",
        )
        self._cells(
            transaction,
            hold["id"],
            occupancy,
            hold["doctor_id"],
            hold["patient_id"],
            now,
            expires=hold["expires_epoch"],
        )
        transaction.add(ledger.open_room_check(self.locks_table, hold["patient_id"], limit), "open")
        if entry_offer is not None:
            transaction.add(
                {
                    "Update": {
                        "TableName": self.waitlist_table,
                        "Key": {"id": entry_offer["entry_id"]},
                        "UpdateExpression": "SET #status = :offered, offer = :offer, updated_at = :at "
                        "REMOVE waiting_doctor_id",
                        "ConditionExpression": "#status = :waiting",
                        "ExpressionAttributeNames": {"#status": "status"},
                        "ExpressionAttributeValues": {
                            ":offered": "offered",
                            ":waiting": "waiting",
                            ":at": hold["created_at"],
                            ":offer": entry_offer["offer"],
                        },
                    }
                },
                "entry",
            )
            cell, window_end = entry_offer.get("quota_cell"), entry_offer.get("window_end_epoch")
            if cell is not None and window_end is not None and hold["expires_epoch"] > window_end:
                transaction.add(
                    quota.extend(
                        hold["patient_id"], quota.WAITLIST, cell, entry_offer["entry_id"], hold["expires_epoch"]
                    ),
                    "entry_quota",
                )
        self._audit(transaction, audit_records)
        transaction.run()

    def confirm(
        self,
        hold: dict[str, Any],
        appointment: dict[str, Any],
        occupancy: Occupancy,
        doctor_version: int,
        limit: int,
        now: int,
        audit_records: list[dict[str, Any]],
        extra: tuple[tuple[dict[str, Any], str], ...] = (),
    ) -> None:
        """Book exactly the held interval for the held patient, atomically, while the hold lasts (so
        its quota cell, and an offer's waitlist cell, are still its own to free). ``extra``: more
        (action, role) pairs for the same transaction (the settings' check)."""
        transaction = Transaction()
        for action, role in extra:
            transaction.add(action, role)
        transaction.add(
            self._hold_moves(
                hold, "confirmed", now, ", appointment_id = :appointment", {":appointment": appointment["id"]}
            ),
            "hold",
        )
        transaction.add(check_active(self.doctors_table, hold["doctor_id"], doctor_version), "doctor")
        transaction.add(check_active(self.patients_table, hold["patient_id"]), "patient")
        item = {**appointment, "schedule_doctor_id": appointment["doctor_id"], "version": 1}
        if appointment.get("location_id"):
            item["schedule_location_id"] = appointment["location_id"]
        transaction.add(
            {
                "Put": {
                    "TableName": self.appointments_table,
                    "Item": item,
                    "ConditionExpression": "attribute_not_exists(id)",
                }
            },
            "appointment",
        )
        self._cells(
            transaction, hold["id"], occupancy, hold["doctor_id"], hold["patient_id"], now, convert_to=appointment["id"]
        )
        transaction.add(ledger.open_change(self.locks_table, hold["patient_id"], 1, limit), "open")
        transaction.add(ledger.link_change(self.locks_table, hold["doctor_id"], hold["patient_id"], 1, live=1), "link")
        self._entry_moves(transaction, hold, "booked", hold["updated_at"])
        self._free_quota(transaction, hold, entry_leaves=True)
        self._audit(transaction, audit_records)
        transaction.run()

    def _free_quota(self, transaction: Transaction, hold: dict[str, Any], *, entry_leaves: bool) -> None:
        """Before its expiry, a hold that ends gives back its cell of the patient's hold quota; an offer
        whose entry leaves the waitlist (booked or cancelled) gives back the entry's cell too."""
        if hold.get("quota_cell") is not None:
            transaction.add(quota.free(hold["patient_id"], quota.HOLDS, int(hold["quota_cell"])), "quota")
        if entry_leaves and hold.get("entry_quota_cell") is not None:
            cell = int(hold["entry_quota_cell"])
            transaction.add(
                quota.free(hold["patient_id"], quota.WAITLIST, cell, holder_id=hold["waitlist_entry_id"]),
                "entry_quota",
            )

    def held_cells(self, hold: dict[str, Any]) -> dict[str, list[datetime]]:
        """The cells (by owner) this hold still holds — after expiry others may have taken some — read
        in one consistent BatchGetItem of the hour items of its doctor, patient and resources."""
        occupancy = Occupancy.of(hold)
        wanted = [
            (locks.doctor_owner(hold["doctor_id"]), occupancy.doctor_cells()),
            (locks.patient_owner(hold["patient_id"]), occupancy.patient_cells()),
            *((locks.resource_owner(r), occupancy.doctor_cells()) for r in occupancy.resources),
        ]
        keys = sorted({(owner, locks.hour_key(c)) for owner, cells in wanted for c in cells})
        items = {
            (i["owner"], i["hour"]): i
            for i in batch_get_keys(self.locks_table, [{"owner": o, "hour": h} for o, h in keys])
        }
        return {
            owner: [c for c in cells if items.get((owner, locks.hour_key(c)), {}).get(f"m{c.minute:02d}") == hold["id"]]
            for owner, cells in wanted
        }

    def end(
        self,
        hold: dict[str, Any],
        target: str,
        now: int,
        audit_records: list[dict[str, Any]],
        entry_to: str = "waiting",
    ) -> None:
        """Release (before expiry) or expire (after it) the hold, freeing the cells it still holds and
        putting its waitlist entry (if an offer) back in the queue — or ``entry_to`` "cancelled"."""
        transaction = Transaction()
        transaction.add(self._hold_moves(hold, target, now, unexpired=target == "released"), "hold")
        self._cells(
            transaction,
            hold["id"],
            Occupancy.of(hold),
            hold["doctor_id"],
            hold["patient_id"],
            now,
            free=self.held_cells(hold),
        )
        still_offered = self._still_offered(hold)
        if still_offered:  # else the entry has moved on (left the waitlist): nothing to put back
            self._entry_moves(transaction, hold, entry_to, hold["updated_at"])
        if target == "released":  # an expired hold's quota cell is free already (and may be another's)
            self._free_quota(transaction, hold, entry_leaves=still_offered and entry_to == "cancelled")
        self._audit(transaction, audit_records)
        transaction.run()

    def _still_offered(self, hold: dict[str, Any]) -> bool:
        """Is the hold's waitlist entry (if any) still offered this hold? Read before the transaction; the
        move's own condition makes the transaction fail (and the caller look again) if that changes."""
        if not hold.get("waitlist_entry_id"):
            return False
        entry = (
            table(self.waitlist_table)
            .get_item(
                Key={"id": hold["waitlist_entry_id"]},
                ConsistentRead=True,
                ProjectionExpression="#status, offer.hold_id",
                ExpressionAttributeNames={"#status": "status"},
            )
            .get("Item")
            or {}
        )
        return entry.get("status") == "offered" and (entry.get("offer") or {}).get("hold_id") == hold["id"]
