"""Two small counters kept beside the slot locks (same table, keys that never collide with an hour),
each changed in the same transaction as the appointment it counts, so they are never out of step:

- a patient's **open appointments** (``patient#<id>`` / ``#open``, attribute ``n``): booked or
  arrived. A booking adds under the condition that the clinic's limit leaves room — so thirty
  racing bookings against a limit of five end with exactly five; cancelling, a no-show and
  fulfilment give the place back.
- a **doctor–patient link** (``doctor#<id>`` / ``#patient#<id>``): how many non-cancelled appointments
  tie them (``n``), and of those how many are booked or arrived (``live``) and fulfilled or no-show
  (``done``). A doctor sees a patient's record only while ``n`` is above zero (and the doctor is active)
  and one of them is live or started inside the doctor's access window (API.md v1.2): a live one
  answers at once, without reading the patient's appointments (``live_appointments``). A doctor's
  patient search is one Query of these items: its cost grows with the doctor's own patients, never
  with the clinic's.

  ``live`` and ``done`` were added after ``n``: a link that already counted appointments then keeps
  ``n > live + done`` for good (n − live − done is the number of its appointments not cancelled when
  counting began), and its doctor's access is read from the patient's appointments as before.
"""

from __future__ import annotations

from typing import Any

from boto3.dynamodb.conditions import Attr, Key

from clinic.data.dynamo import plain, table
from clinic.data.locks import doctor_owner, patient_owner

OPEN = "#open"
LINK_PREFIX = "#patient#"


def open_key(patient_id: str) -> dict[str, str]:
    return {"owner": patient_owner(patient_id), "hour": OPEN}


def link_key(doctor_id: str, patient_id: str) -> dict[str, str]:
    return {"owner": doctor_owner(doctor_id), "hour": f"{LINK_PREFIX}{patient_id}"}


def open_change(table_name: str, patient_id: str, delta: int, limit: int | None = None) -> dict[str, Any]:
    """Add ``delta`` to the patient's open appointments; with ``limit``, only if the result stays within it."""
    update: dict[str, Any] = {
        "TableName": table_name,
        "Key": open_key(patient_id),
        "UpdateExpression": "ADD #n :delta",
        "ExpressionAttributeNames": {"#n": "n"},
        "ExpressionAttributeValues": {":delta": delta},
    }
    if limit is not None:
        update["ConditionExpression"] = "attribute_not_exists(#n) OR #n <= :room"
        update["ExpressionAttributeValues"][":room"] = limit - delta
        update["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
    return {"Update": update}


def open_room_check(table_name: str, patient_id: str, limit: int) -> dict[str, Any]:
    """A condition (no change) that the patient is below the limit: a hold reserves no place yet."""
    return {
        "ConditionCheck": {
            "TableName": table_name,
            "Key": open_key(patient_id),
            "ConditionExpression": "attribute_not_exists(#n) OR #n < :limit",
            "ExpressionAttributeNames": {"#n": "n"},
            "ExpressionAttributeValues": {":limit": limit},
        }
    }


def link_change(
    table_name: str, doctor_id: str, patient_id: str, delta: int, *, live: int, done: int = 0
) -> dict[str, Any]:
    """Add ``delta`` non-cancelled appointments to the pair's link, ``live`` booked or arrived ones and
    ``done`` fulfilled or no-show ones (a booking: +1, +1, 0; a cancel: -1, -1, 0; fulfilled: 0, -1, +1)."""
    return {
        "Update": {
            "TableName": table_name,
            "Key": link_key(doctor_id, patient_id),
            "UpdateExpression": "SET patient_id = :patient ADD #n :delta, live :live, done :done",
            "ExpressionAttributeNames": {"#n": "n"},
            "ExpressionAttributeValues": {":patient": patient_id, ":delta": delta, ":live": live, ":done": done},
        }
    }


def link(table_name: str, doctor_id: str, patient_id: str) -> dict[str, Any] | None:
    """The pair's link as it is now (a consistent read), or None; ``n`` > 0: an appointment that is not
    cancelled ties them."""
    item = table(table_name).get_item(Key=link_key(doctor_id, patient_id), ConsistentRead=True).get("Item")
    return plain(item) if item else None


def live_appointments(item: dict[str, Any]) -> int | None:
    """How many of the pair's appointments are booked or arrived, or None where the link cannot say (it
    counted appointments before it kept ``live`` and ``done``)."""
    n, live, done = (int(item.get(key, 0)) for key in ("n", "live", "done"))
    return live if n == live + done else None


def linked_patients(
    table_name: str, doctor_id: str, limit: int, start_key: dict | None
) -> tuple[list[tuple[str, int | None]], dict | None]:
    """A page of the doctor's linked patients (by id): each one's id and ``live_appointments``, and where
    the next page starts."""
    args: dict[str, Any] = {
        "KeyConditionExpression": Key("owner").eq(doctor_owner(doctor_id)) & Key("hour").begins_with(LINK_PREFIX),
        "FilterExpression": Attr("n").gt(0),
        "ProjectionExpression": "patient_id, #n, live, done, #o, #h",
        "ExpressionAttributeNames": {"#o": "owner", "#h": "hour", "#n": "n"},
        "Limit": limit,
        "ConsistentRead": True,
    }
    if start_key:
        args["ExclusiveStartKey"] = start_key
    answer = table(table_name).query(**args)
    found = [(str(i["patient_id"]), live_appointments(i)) for i in plain(answer.get("Items", []))]
    return found, answer.get("LastEvaluatedKey")
