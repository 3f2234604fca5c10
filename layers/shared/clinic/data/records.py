"""Storage of patient and doctor records: get, create, replace (optimistic), list and indexed search."""

from __future__ import annotations

from typing import Any

from boto3.dynamodb.conditions import Attr, Key
from botocore.exceptions import ClientError

from clinic.config import settings
from clinic.data import audit_log
from clinic.data.dynamo import batch_get, page_args, plain, table
from clinic.data.transactions import Failed, Transaction

# Index names, as declared in template.yaml.
PATIENTS_BY_NAME = "by_family_name"
PATIENTS_BY_BIRTH_DATE = "by_birth_date"
DOCTORS_BY_SPECIALTY = "by_specialty"


class AlreadyExists(Exception):
    """A record with this id is stored already."""


class VersionConflict(Exception):
    """The record changed (or vanished) between read and write."""


class Records:
    """A table of records keyed by ``id`` with an integer ``version`` for optimistic updates.

    A write of patient data passes its audit records: they are put in the same transaction, so the
    change commits together with its record on the patient's trail, or not at all (API.md v1.2)."""

    def __init__(self, table_name: str) -> None:
        self._table = table(table_name)

    @property
    def name(self) -> str:
        return self._table.name

    def get(self, record_id: str) -> dict[str, Any] | None:
        item = self._table.get_item(Key={"id": record_id}, ConsistentRead=True).get("Item")
        return plain(item) if item else None

    def create(self, item: dict[str, Any], audit_records: list[dict[str, Any]] | None = None) -> None:
        """Put a new record; AlreadyExists if its id is taken (a keyed retry of a committed create)."""
        new_item = {**item, "version": 1}
        if audit_records:
            if not self._with_audit(new_item, "attribute_not_exists(id)", {}, audit_records):
                raise AlreadyExists()
            return
        try:
            self._table.put_item(Item=new_item, ConditionExpression=Attr("id").not_exists())
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise AlreadyExists() from None
            raise

    def replace(
        self, item: dict[str, Any], expected_version: int, audit_records: list[dict[str, Any]] | None = None
    ) -> dict[str, Any]:
        new_item = {**item, "version": expected_version + 1}
        if audit_records:
            if not self._with_audit(new_item, "version = :v", {":v": expected_version}, audit_records):
                raise VersionConflict()
            return new_item
        try:
            self._table.put_item(Item=new_item, ConditionExpression=Attr("version").eq(expected_version))
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise VersionConflict() from None
            raise
        return new_item

    def _with_audit(
        self, item: dict[str, Any], condition: str, values: dict[str, Any], audit_records: list[dict[str, Any]]
    ) -> bool:
        """Put the record under its condition together with its audit records; False if the condition failed."""
        put: dict[str, Any] = {"TableName": self._table.name, "Item": item, "ConditionExpression": condition}
        if values:
            put["ExpressionAttributeValues"] = values
        transaction = Transaction()
        transaction.add({"Put": put}, "record")
        for record in audit_records:
            transaction.add(audit_log.put_action(settings().audit_table, record), "audit")
        try:
            transaction.run()
        except Failed as failed:
            if failed.has("record"):
                return False
            raise
        return True

    def get_many(self, ids: list[str]) -> dict[str, dict[str, Any]]:
        """Records by id (consistent reads): id → record, for those that exist."""
        return {item["id"]: item for item in batch_get(self._table.name, ids)}

    def scan_page(self, limit: int, start_key: dict | None, consistent: bool = False) -> tuple[list[dict], dict | None]:
        answer = self._table.scan(**page_args(limit, start_key), **({"ConsistentRead": True} if consistent else {}))
        return plain(answer.get("Items", [])), answer.get("LastEvaluatedKey")

    def query_page(
        self, index: str, condition, limit: int, start_key: dict | None, filter_condition=None
    ) -> tuple[list[dict], dict | None]:
        """A page of an index in key order; a filter applies to the ``limit`` items read (so fewer may come)."""
        args = page_args(limit, start_key)
        if filter_condition is not None:
            args["FilterExpression"] = filter_condition
        answer = self._table.query(IndexName=index, KeyConditionExpression=condition, **args)
        return plain(answer.get("Items", [])), answer.get("LastEvaluatedKey")


def patients() -> Records:
    return Records(settings().patients_table)


def doctors() -> Records:
    return Records(settings().doctors_table)


def patient_search_condition(name_shard: str | None, name_prefix: str | None, birth_date: str | None):
    """(index, key condition) for a patient search; always a Query on an index, never a Scan."""
    if birth_date is not None:
        condition = Key("birth_date").eq(birth_date)
        if name_prefix:
            condition = condition & Key("family_name_key").begins_with(name_prefix)
        return PATIENTS_BY_BIRTH_DATE, condition
    assert name_shard and name_prefix  # noqa: S101 - guaranteed by PatientSearch validation
    return PATIENTS_BY_NAME, Key("name_shard").eq(name_shard) & Key("family_name_key").begins_with(name_prefix)


def doctors_by_specialty_condition(specialty_key: str):
    return DOCTORS_BY_SPECIALTY, Key("specialty_key").eq(specialty_key)
