"""A patient's quotas of things that stop counting by themselves: live holds placed with POST /holds
(``max_holds_per_patient``) and waitlist entries waiting or offered (``max_waitlist_entries_per_patient``).

A counter cannot keep them: a hold stops being live the instant it expires, and a waitlist entry
the instant its window ends, with nothing written. So a quota is one item beside the slot locks
(``patient#<id>`` / ``#holds`` or ``#waitlist``, keys that never collide with an hour) holding cells
like the slot locks' own: ``qNN`` the id of what holds it, ``eNN`` when it stops counting (epoch
seconds). A cell counts while its expiry is ahead.

Taking a cell is part of the write that places the hold or the entry: the caller reads the item,
refuses when the live cells already reach the limit, and takes the lowest cell that is not live,
under the condition that the item's ``version`` is still the one read. Every take and every early
free bumps the version, so of any number of racing requests, exactly as many win as the limit has
room for; the others fail that condition, get the item as it now is (ReturnValuesOnConditionCheckFailure)
and decide again. Freeing a cell early (a hold confirmed or released, an entry booked or left) is a
``REMOVE`` in the same transaction as the change that ends it.
"""

from __future__ import annotations

from typing import Any

from clinic.config import settings
from clinic.data.dynamo import plain, table
from clinic.data.locks import patient_owner

HOLDS = "#holds"
WAITLIST = "#waitlist"
MAX_CELLS = 50  # the highest limit the settings allow (max_waitlist_entries_per_patient ≤ 50)


class Full(Exception):
    """The patient already has as many live cells as the limit allows."""


def key(patient_id: str, kind: str) -> dict[str, str]:
    return {"owner": patient_owner(patient_id), "hour": kind}


def _table_name() -> str:
    return settings().slot_locks_table


def read(patient_id: str, kind: str) -> dict[str, Any]:
    """The quota item as it is now (a consistent read; empty when never written)."""
    item = table(_table_name()).get_item(Key=key(patient_id, kind), ConsistentRead=True).get("Item")
    return plain(item) if item else {}


def live(item: dict[str, Any], now: int) -> dict[int, str]:
    """The cells that count now: cell number → holder id."""
    found = {}
    for cell in range(MAX_CELLS):
        holder, until = item.get(f"q{cell:02d}"), item.get(f"e{cell:02d}")
        if holder is not None and until is not None and int(until) > now:
            found[cell] = str(holder)
    return found


def take(
    patient_id: str, kind: str, item: dict[str, Any], limit: int, holder_id: str, until: int, now: int
) -> tuple[dict[str, Any], int]:
    """The transaction action taking a cell for ``holder_id`` until ``until``, and the cell's number;
    Full when the item (as read) already has ``limit`` live cells."""
    taken = live(item, now)
    if len(taken) >= limit:
        raise Full()
    cell = min(c for c in range(MAX_CELLS) if c not in taken)
    version = int(item.get("version", 0))
    update: dict[str, Any] = {
        "TableName": _table_name(),
        "Key": key(patient_id, kind),
        "UpdateExpression": "SET #q = :holder, #e = :until ADD #v :one",
        "ExpressionAttributeNames": {"#q": f"q{cell:02d}", "#e": f"e{cell:02d}", "#v": "version"},
        "ExpressionAttributeValues": {":holder": holder_id, ":until": until, ":one": 1},
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
    }
    if version:
        update["ConditionExpression"] = "#v = :version"
        update["ExpressionAttributeValues"][":version"] = version
    else:
        update["ConditionExpression"] = "attribute_not_exists(#v)"
    return {"Update": update}, cell


def free(patient_id: str, kind: str, cell: int, holder_id: str | None = None) -> dict[str, Any]:
    """The transaction action freeing a cell before its expiry. With ``holder_id``, only while that
    holder still has it (after its expiry another may have taken the cell)."""
    update: dict[str, Any] = {
        "TableName": _table_name(),
        "Key": key(patient_id, kind),
        "UpdateExpression": "REMOVE #q, #e ADD #v :one",
        "ExpressionAttributeNames": {"#q": f"q{cell:02d}", "#e": f"e{cell:02d}", "#v": "version"},
        "ExpressionAttributeValues": {":one": 1},
    }
    if holder_id is not None:
        update["ConditionExpression"] = "#q = :holder"
        update["ExpressionAttributeValues"][":holder"] = holder_id
    return {"Update": update}


def extend(patient_id: str, kind: str, cell: int, holder_id: str, until: int) -> dict[str, Any]:
    """The transaction action making a cell its holder still has count until ``until`` (a waitlist
    entry counts while its offer lasts, even past the entry's window: the caller extends only then)."""
    return {
        "Update": {
            "TableName": _table_name(),
            "Key": key(patient_id, kind),
            "UpdateExpression": "SET #e = :until ADD #v :one",
            "ConditionExpression": "#q = :holder",
            "ExpressionAttributeNames": {"#q": f"q{cell:02d}", "#e": f"e{cell:02d}", "#v": "version"},
            "ExpressionAttributeValues": {":holder": holder_id, ":until": until, ":one": 1},
        }
    }
