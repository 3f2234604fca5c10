"""Create the template's DynamoDB tables on any DynamoDB endpoint, from the table properties in
template.yaml (so the schema is written once)."""

from __future__ import annotations

from typing import Any

from local_stack import template as tpl

# CreateTable takes these; the rest (SSE, PITR, deletion protection, tags) is AWS-side only.
_CREATE_KEYS = (
    "AttributeDefinitions",
    "KeySchema",
    "GlobalSecondaryIndexes",
    "LocalSecondaryIndexes",
    "BillingMode",
    "ProvisionedThroughput",
    "StreamSpecification",
)


def create_table_request(table: tpl.Table) -> dict[str, Any]:
    props = tpl.resolve(table.properties)
    request = {k: props[k] for k in _CREATE_KEYS if k in props}
    request.setdefault("BillingMode", "PAY_PER_REQUEST")
    if "StreamSpecification" in request:  # CloudFormation names the view type; CreateTable also wants StreamEnabled
        request["StreamSpecification"] = {"StreamEnabled": True, **request["StreamSpecification"]}
    request["TableName"] = table.name
    return request


def ensure_tables(client) -> list[str]:
    """Create every missing table; answer the names of the tables that were created."""
    existing = set(client.list_tables().get("TableNames", []))
    created = []
    for table in tpl.tables():
        if table.name in existing:
            continue
        client.create_table(**create_table_request(table))
        client.get_waiter("table_exists").wait(TableName=table.name, WaiterConfig={"Delay": 0.2, "MaxAttempts": 50})
        ttl = table.properties.get("TimeToLiveSpecification")
        if ttl and ttl.get("Enabled"):
            try:
                client.update_time_to_live(TableName=table.name, TimeToLiveSpecification=tpl.resolve(ttl))
            except Exception:  # noqa: S110 - TTL only deletes old items; a store without it still works
                pass
        created.append(table.name)
    return created
