"""One-time schedules in the stack's EventBridge Scheduler group: each fires once, invokes its target
function with its input, and is deleted afterwards. Upserting and deleting are idempotent, so the
workers that keep them in step with appointments and holds can be retried freely.

A schedule's input names an appointment or a hold (and its patient): every schedule is created with
the stack's customer-managed key (``KmsKeyArn``, from ``SCHEDULE_KMS_KEY_ARN``), never Scheduler's
own; without the variable no schedule is made at all."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from botocore.exceptions import ClientError


@lru_cache(maxsize=1)
def _client():
    import boto3

    from clinic.data.dynamo import CLIENT_CONFIG

    return boto3.client("scheduler", config=CLIENT_CONFIG)


def _at(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("at(%Y-%m-%dT%H:%M:%S)")


def upsert(name: str, moment: datetime, target_variable: str, payload: dict[str, Any]) -> None:
    """Make the schedule ``name`` fire once at ``moment``, invoking the target the variable names."""
    request = {
        "Name": name,
        "GroupName": os.environ["SCHEDULE_GROUP"],
        "ScheduleExpression": _at(moment),
        "ScheduleExpressionTimezone": "UTC",
        "FlexibleTimeWindow": {"Mode": "OFF"},
        "ActionAfterCompletion": "DELETE",
        "KmsKeyArn": os.environ["SCHEDULE_KMS_KEY_ARN"],
        "Target": {
            "Arn": os.environ[target_variable],
            "RoleArn": os.environ["SCHEDULER_ROLE_ARN"],
            "Input": json.dumps(payload),
            "RetryPolicy": {"MaximumRetryAttempts": 5},
            "DeadLetterConfig": {"Arn": os.environ["SCHEDULE_DEAD_LETTER_ARN"]},
        },
    }
    try:
        _client().create_schedule(**request)
    except ClientError as error:
        if error.response["Error"]["Code"] != "ConflictException":
            raise
        _client().update_schedule(**request)


def delete(name: str) -> None:
    try:
        _client().delete_schedule(Name=name, GroupName=os.environ["SCHEDULE_GROUP"])
    except ClientError as error:
        if error.response["Error"]["Code"] != "ResourceNotFoundException":
            raise
