"""The handler tests' harness does not depend on the machine being idle: a request that is slow only
because the machine is (moto in-process, other work on both cores) is still answered, not refused by
the per-request DynamoDB deadline, which is for a degraded table (tests/unit/test_time_budget.py,
tests/handlers/test_faults.py)."""

from __future__ import annotations

import itertools
import time
from types import SimpleNamespace

from tests.claims import claims_of
from tests.handlers.conftest import event_for
from tests.handlers.test_appointments import PATIENT

STAFF = claims_of("staff", sub="staff-harness")


def test_a_request_on_a_slow_machine_is_answered_not_refused_by_the_dynamodb_deadline(invoke, monkeypatch):
    from clinic.data import dynamo

    # Given a machine so loaded that each DynamoDB call starts 3 s after the one before (as the
    # deadline's clock sees it): with the template's 10 s, the second call would find too little left
    ticks = itertools.count()
    slow = SimpleNamespace(monotonic=lambda: time.monotonic() + 3 * next(ticks), sleep=time.sleep)
    monkeypatch.setattr(dynamo, "time", slow)
    # When a keyed registration (idempotency record; patient with audit; idempotency again) is invoked
    request = event_for("POST", "/patients", body=PATIENT, claims=STAFF)
    request["headers"]["Idempotency-Key"] = "slow-machine"
    answer = invoke("RegisterPatientFunction", request)
    # Then it is answered as on an idle machine
    assert answer["statusCode"] == 201, answer
    assert next(ticks) > 3  # and the clock did run on, call after call
