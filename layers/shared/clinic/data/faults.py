"""Storage fault injection, for watching the service's behaviour by hand (the local stack passes
CLINIC_* variables to every function):

    CLINIC_FAULTS="TransactWriteItems:before:0.5,PutItem:after:0.2" make run

Each rule is ``<DynamoDB operation or *>:<before|after>:<probability>``. *before* fails the call
before it is sent (nothing is written); *after* fails it once DynamoDB has answered (the write is
done, the answer is lost). Unset — the only setting in AWS — there are no hooks at all.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass

from botocore.exceptions import ClientError

VARIABLE = "CLINIC_FAULTS"
_random = secrets.SystemRandom()


@dataclass(frozen=True)
class Rule:
    operation: str
    phase: str
    probability: float

    def fires(self, operation: str, phase: str) -> bool:
        return self.operation in ("*", operation) and self.phase == phase and _random.random() < self.probability


def rules(spec: str | None = None) -> list[Rule]:
    spec = os.environ.get(VARIABLE, "") if spec is None else spec
    found = []
    for part in filter(None, (p.strip() for p in spec.split(","))):
        operation, phase, probability = part.split(":")
        if phase not in ("before", "after"):
            raise ValueError(f"{VARIABLE}: phase must be before or after, not {phase!r}")
        found.append(Rule(operation, phase, float(probability)))
    return found


def install(client, spec: str | None = None) -> None:
    active = rules(spec)
    if not active:
        return

    def before(model, **_):
        if any(r.fires(model.name, "before") for r in active):
            raise ClientError(
                {"Error": {"Code": "InternalServerError", "Message": "injected fault (before)"}}, model.name
            )

    def after(model, **_):
        if any(r.fires(model.name, "after") for r in active):
            raise ClientError(
                {"Error": {"Code": "ServiceUnavailable", "Message": "injected fault (after)"}}, model.name
            )

    client.meta.events.register("before-call.dynamodb", before)
    client.meta.events.register("after-call.dynamodb", after)
