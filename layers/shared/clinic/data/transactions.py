"""One TransactWriteItems per write, and what its failed conditions mean.

Each action is added with a role (what it stands for: the appointment, the doctor's check, the
doctor's cells of occurrence 2, the patient's counter, ...). When DynamoDB cancels the transaction,
its ``CancellationReasons`` come back in the order of the actions; ``Failed`` names every role whose
condition failed (with the item as it was, where the action asked for it), so the use case answers
the most specific error without counting indexes. Conflicts with other in-flight transactions on
the same items are retried a few times with jitter, then reported as ``StillConflicting`` (503).
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from clinic.data.dynamo import client, plain

CONFLICT_ATTEMPTS = 4
MAX_ITEMS = 100  # DynamoDB's limit per transaction


@dataclass(frozen=True)
class Role:
    kind: str  # e.g. "appointment", "doctor", "patient", "doctor_cells", "patient_cells", "open", "link", "audit"
    index: int = 0  # the occurrence of a series (0 for a single write)
    ref: str = ""  # which record, where several of one kind take part (a resource's id)


class StillConflicting(Exception):
    """Other transactions kept holding our items; the client should retry."""


class TooLarge(Exception):
    """More items than one transaction may hold."""


@dataclass
class Failed(Exception):
    """The transaction was cancelled because these roles' conditions failed."""

    roles: dict[Role, dict[str, Any] | None] = field(default_factory=dict)  # role → the old item, if returned

    def has(self, kind: str) -> bool:
        return any(role.kind == kind for role in self.roles)

    def first(self, kind: str) -> Role | None:
        found = sorted((r for r in self.roles if r.kind == kind), key=lambda r: r.index)
        return found[0] if found else None

    def refs(self, kind: str) -> set[str]:
        return {role.ref for role in self.roles if role.kind == kind}

    def item(self, kind: str) -> dict[str, Any] | None:
        role = self.first(kind)
        return self.roles.get(role) if role else None


class Transaction:
    def __init__(self) -> None:
        self.actions: list[dict[str, Any]] = []
        self.roles: list[Role] = []

    def add(self, action: dict[str, Any], kind: str, index: int = 0, ref: str = "") -> None:
        self.actions.append(action)
        self.roles.append(Role(kind, index, ref))

    def run(self) -> None:
        """Commit, or raise Failed / StillConflicting / TooLarge (other errors propagate)."""
        if len(self.actions) > MAX_ITEMS:
            raise TooLarge()
        for attempt in range(CONFLICT_ATTEMPTS):
            try:
                client().transact_write_items(TransactItems=self.actions)
                return
            except ClientError as error:
                if error.response["Error"]["Code"] != "TransactionCanceledException":
                    raise
                reasons = error.response.get("CancellationReasons") or []
                codes = [r.get("Code", "None") for r in reasons]
                if "ConditionalCheckFailed" in codes:
                    raise Failed(
                        {
                            self.roles[i]: plain(_old_item(r))
                            for i, r in enumerate(reasons)
                            if r.get("Code") == "ConditionalCheckFailed"
                        }
                    ) from None
                if "TransactionConflict" in codes and attempt + 1 < CONFLICT_ATTEMPTS:
                    time.sleep(random.uniform(0.02, 0.1) * (attempt + 1))  # noqa: S311  # jitter  # nosec B311
                    continue
                if "TransactionConflict" in codes:
                    raise StillConflicting() from None
                raise


def _old_item(reason: dict[str, Any]) -> dict[str, Any] | None:
    """The item a failed condition returned (ReturnValuesOnConditionCheckFailure), as plain values."""
    item = reason.get("Item")
    if not item:
        return None
    from boto3.dynamodb.types import TypeDeserializer

    deserializer = TypeDeserializer()
    try:  # an error answer is not translated to plain values by boto3's resource layer
        return {k: deserializer.deserialize(v) for k, v in item.items()}
    except (TypeError, AttributeError, ValueError):
        return dict(item)
