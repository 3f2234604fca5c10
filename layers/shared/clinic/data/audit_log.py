"""The audit trail's table: append-only records, one item per patient touched per request.

Every write is conditional on ``attribute_not_exists(subject)``, so a record is never overwritten;
IAM gives functions PutItem and nothing else that writes, and the table's resource policy denies
every update and delete to every principal (template.yaml, AuditTable). See clinic.audit for what
is recorded and when.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from boto3.dynamodb.conditions import Key

from clinic.config import settings
from clinic.data.dynamo import client, plain, table

_MAX_TRANSACTION = 100
_NEVER_OVERWRITE = "attribute_not_exists(subject)"


def put_action(table_name: str, record: dict[str, Any]) -> dict[str, Any]:
    """A transaction's Put of one audit record, never overwriting one."""
    return {"Put": {"TableName": table_name, "Item": record, "ConditionExpression": _NEVER_OVERWRITE}}


def append(records: Iterable[dict[str, Any]]) -> None:
    """Write the records, all or none (several in one transaction)."""
    records = list(records)
    if not records:
        return
    name = settings().audit_table
    if len(records) == 1:
        table(name).put_item(Item=records[0], ConditionExpression=_NEVER_OVERWRITE)
        return
    for start in range(0, len(records), _MAX_TRANSACTION):
        client().transact_write_items(
            TransactItems=[put_action(name, item) for item in records[start : start + _MAX_TRANSACTION]]
        )


def history(subject: str, limit: int, start_key: dict | None) -> tuple[list[dict[str, Any]], dict | None]:
    """One subject's records, newest first."""
    args: dict[str, Any] = {
        "KeyConditionExpression": Key("subject").eq(subject),
        "ScanIndexForward": False,
        "Limit": limit,
    }
    if start_key:
        args["ExclusiveStartKey"] = start_key
    answer = table(settings().audit_table).query(**args)
    return plain(answer.get("Items", [])), answer.get("LastEvaluatedKey")
