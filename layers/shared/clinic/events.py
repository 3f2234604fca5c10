"""Domain events, read off committed changes: what a DynamoDB stream record of an appointment, a hold
or a waitlist entry means, as events on the stack's bus (source ``clinic.appointments``).

Pure (no AWS calls): the publisher (functions/publish_events) turns each stream record into its
events with ``from_record`` and puts them on the bus. Because the stream holds only committed writes,
an event is published if and only if its change committed; the stream's retries make it at least
once, and ``event_id`` — derived from the record's id, its version and the event type — is the same on
every redelivery, so consumers de-duplicate on it. Events of one appointment come in commit order
(a stream is ordered per item) and carry ``sequence`` (the record's version) for consumers that
receive them out of order.

``detail`` holds ids, times and statuses only — never a name, reason, contact detail or condition.
"""

from __future__ import annotations

import uuid
from typing import Any

SOURCE = "clinic.appointments"
CATALOGUE = (
    "AppointmentBooked",
    "AppointmentRescheduled",
    "AppointmentCancelled",
    "AppointmentStatusChanged",
    "HoldPlaced",
    "HoldReleased",
    "HoldExpired",
    "WaitlistOfferMade",
    "AppointmentReminder",
)
_NAMESPACE = uuid.UUID("0b5d7a52-3c8e-4f1a-9d6b-2e4f8a1c7b90")  # event ids: uuid5 in this namespace


def event_id(kind: str, record_id: str, version: Any, detail_type: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"{kind}:{record_id}:{version}:{detail_type}"))


def plain_image(image: dict[str, Any] | None) -> dict[str, Any]:
    """A stream image (DynamoDB JSON) as plain values."""
    if not image:
        return {}
    from boto3.dynamodb.types import TypeDeserializer

    from clinic.data.dynamo import plain

    unpack = TypeDeserializer().deserialize
    return plain({key: unpack(value) for key, value in image.items()})


def _event(
    detail_type: str, kind: str, item: dict[str, Any], fields: dict[str, Any], version: Any = None
) -> dict[str, Any]:
    version = item.get("version", 1) if version is None else version
    detail = {
        "event_id": event_id(kind, item["id"], version, detail_type),
        "occurred_at": item.get("updated_at") or item.get("created_at"),
        "sequence": int(item.get("version", 1)),
        **{k: v for k, v in fields.items() if v is not None},
    }
    return {"detail-type": detail_type, "detail": detail}


def _appointment_fields(item: dict[str, Any]) -> dict[str, Any]:
    return {
        "appointment_id": item["id"],
        "patient_id": item["patient_id"],
        "doctor_id": item["doctor_id"],
        "start": item["start_at"],
        "end": item["end_at"],
        "status": item["status"],
        # not appointment_type: a clinic's own codes can name a condition ("oncology-follow-up")
        "series_id": item.get("series_id"),
        "hold_id": item.get("hold_id"),
        "location_id": item.get("location_id"),
    }


def _hold_fields(item: dict[str, Any]) -> dict[str, Any]:
    return {
        "hold_id": item["id"],
        "patient_id": item["patient_id"],
        "doctor_id": item["doctor_id"],
        "start": item["start_at"],
        "end": item["end_at"],
        "status": item["status"],
        "expires_at": item["expires_at"],
        "waitlist_entry_id": item.get("waitlist_entry_id"),
        "appointment_id": item.get("appointment_id"),
        "location_id": item.get("location_id"),
    }


def appointment_events(old: dict[str, Any], new: dict[str, Any]) -> list[dict[str, Any]]:
    if not new:
        return []
    if not old:
        return [_event("AppointmentBooked", "appointment", new, _appointment_fields(new))]
    if new["status"] == "cancelled" and old["status"] != "cancelled":
        return [_event("AppointmentCancelled", "appointment", new, _appointment_fields(new))]
    if (new["start_at"], new["end_at"]) != (old["start_at"], old["end_at"]):
        return [
            _event(
                "AppointmentRescheduled",
                "appointment",
                new,
                {**_appointment_fields(new), "previous_start": old["start_at"], "previous_end": old["end_at"]},
            )
        ]
    if new["status"] != old["status"]:
        return [
            _event(
                "AppointmentStatusChanged",
                "appointment",
                new,
                {**_appointment_fields(new), "previous_status": old["status"]},
            )
        ]
    return []


def hold_events(old: dict[str, Any], new: dict[str, Any]) -> list[dict[str, Any]]:
    if not new:
        return []
    if not old:
        return [_event("HoldPlaced", "hold", new, _hold_fields(new))]
    if new["status"] != old["status"] and new["status"] in ("released", "expired"):
        name = "HoldReleased" if new["status"] == "released" else "HoldExpired"
        return [_event(name, "hold", new, _hold_fields(new))]
    return []  # confirmed: the appointment's own AppointmentBooked (with hold_id) says so


def waitlist_events(old: dict[str, Any], new: dict[str, Any]) -> list[dict[str, Any]]:
    if not new or new.get("status") != "offered" or (old or {}).get("status") == "offered":
        return []
    offer = new.get("offer") or {}
    # one event per offer: an entry is offered again (another hold) after an offer expires
    return [
        _event(
            "WaitlistOfferMade",
            "waitlist",
            new,
            version=offer.get("hold_id"),
            fields={
                "waitlist_entry_id": new["id"],
                "patient_id": new["patient_id"],
                "doctor_id": new["doctor_id"],
                "hold_id": offer.get("hold_id"),
                "start": offer.get("start"),
                "end": offer.get("end"),
                "expires_at": offer.get("expires_at"),
                "status": "offered",
            },
        )
    ]


READERS = {"appointment": appointment_events, "hold": hold_events, "waitlist": waitlist_events}


def from_record(kind: str, record: dict[str, Any]) -> list[dict[str, Any]]:
    """The events one stream record of a ``kind`` table ("appointment", "hold", "waitlist") means."""
    change = record.get("dynamodb") or {}
    return READERS[kind](plain_image(change.get("OldImage")), plain_image(change.get("NewImage")))


def reminder(appointment: dict[str, Any], sent_at: str) -> dict[str, Any]:
    """AppointmentReminder for a booked appointment (one per appointment and start: stable id)."""
    detail = {
        "event_id": event_id("reminder", appointment["id"], appointment["start_at"], "AppointmentReminder"),
        "occurred_at": sent_at,
        "sequence": int(appointment.get("version", 1)),
        **{k: v for k, v in _appointment_fields(appointment).items() if v is not None},
    }
    return {"detail-type": "AppointmentReminder", "detail": detail}
