"""The audit trail's tamper alarm, running as in AWS: the local stack reads DynamoDB Local's stream of
the audit table and runs the template's consumer on it."""

from __future__ import annotations

import json
import time

import boto3
import requests

PATIENT = {"given_name": "Tam", "family_name": "Perproof", "birth_date": "1970-01-01", "sex": "other"}


def audit_table(client) -> str:
    return next(n for n in client.list_tables()["TableNames"] if n.endswith(("-audit", "AuditTable")))


def test_changing_an_audit_record_behind_the_service_is_detected_and_counted(stack):
    # Given an audit record written by a real request
    created = requests.post(f"{stack.url}/patients", json=PATIENT, headers=stack.headers(), timeout=30)
    assert created.status_code == 201
    client = boto3.client(
        "dynamodb",
        endpoint_url=stack.dynamodb_endpoint,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )  # nosec B106
    table = audit_table(client)
    subject = f"patient#{created.json()['id']}"
    (record,) = client.query(
        TableName=table, KeyConditionExpression="subject = :s", ExpressionAttributeValues={":s": {"S": subject}}
    )["Items"]
    # When someone with access to the table (locally: anyone; in AWS the resource policy denies it)
    # rewrites its outcome
    client.update_item(
        TableName=table,
        Key={"subject": record["subject"], "at": record["at"]},
        UpdateExpression="SET outcome = :o",
        ExpressionAttributeValues={":o": {"S": "denied"}},
    )
    # Then the stream consumer reports it within seconds: one ERROR naming the record, and the metric
    deadline = time.monotonic() + 20
    found = []
    while time.monotonic() < deadline and not found:
        found = [
            json.loads(line)
            for line in stack.log_lines()
            if "an audit record was modified or removed" in line and subject in line
        ]
        time.sleep(0.3)
    assert found and found[0]["level"] == "ERROR" and found[0]["event_name"] == "MODIFY"
    assert any('"AuditTampered"' in line for line in stack.log_lines())
