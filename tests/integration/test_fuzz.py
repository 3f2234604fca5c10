"""The contract, fuzzed: schemathesis generates requests for every operation of the local stack's
own `/openapi.json` and checks each answer against that document.

Checks, and only these (none loosened): no 5xx, every status code documented, every body matching
its documented schema, every content type documented. Path ids are either the fuzzer's own
(random: unknown → 404) or, as hypothesis chooses, ids of a real doctor, patient, appointment, location
and resource made first, so the handlers get past the lookup.

Bounded for `make test` (a few examples per operation, derandomized); `make fuzz` sets
FUZZ_EXAMPLES for a long run.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests import days

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "10"))
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance, content_type_conformance]
WEEK = {day: [{"start": "00:00", "end": "24:00"}] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


def _generated_document() -> dict:
    """The document the local stack serves at /openapi.json, generated the same way but in a child
    process: building it imports every function module, which must not happen inside this test
    process before the handler tests set up their fake AWS. (schemathesis' lazy fixture loader,
    which could take it from the running stack, breaks on pytest 9: it writes `node._nodeid`.)"""
    out = subprocess.run(
        [sys.executable, "-m", "local_stack", "openapi"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return json.loads(out.stdout)


DOCUMENT = _generated_document()
schema = schemathesis.openapi.from_dict(DOCUMENT)


def test_the_fuzzed_document_is_the_one_the_stack_serves(stack):
    """Byte for byte but the local server's address: the stack names its own (its port is the run's)."""
    served = requests.get(stack.url + "/openapi.json", timeout=30)
    assert served.status_code == 200
    document = served.json()
    assert document["servers"][0]["url"] == stack.url  # Swagger UI's "Try it out" reaches this stack
    assert {**document, "servers": document["servers"][1:]} == {**DOCUMENT, "servers": DOCUMENT["servers"][1:]}


@pytest.fixture(scope="module", autouse=True)
def clinic_settings_restored(stack):
    """The fuzzer PATCHes /settings with whatever the document allows (a hold limit of 100, a week's
    notice): the stack is shared with the tests after this module, so the settings are put back."""
    before = requests.get(stack.url + "/settings", headers=stack.headers("staff"), timeout=30)
    assert before.status_code == 200, before.text
    yield
    restored = requests.patch(
        stack.url + "/settings",
        headers=stack.headers("staff"),
        json={k: v for k, v in before.json().items() if k != "updated_at"},
        timeout=30,
    )
    assert restored.status_code == 200, restored.text


@pytest.fixture(scope="session")
def real_ids(stack) -> dict[str, str]:
    """A doctor who works around the clock, a patient, and one appointment between them; a location with a room."""

    def create(path: str, body: dict) -> dict:
        response = requests.post(stack.url + path, headers=stack.headers("staff"), json=body, timeout=30)
        assert response.status_code == 201, response.text
        return response.json()

    doctor = create(
        "/doctors",
        {
            "given_name": "Fuzz",
            "family_name": "Doctor",
            "specialty": "fuzzing",
            "time_zone": "UTC",
            "slot_minutes": 15,
            "working_hours": WEEK,
        },
    )
    patient = create(
        "/patients", {"given_name": "Fuzz", "family_name": "Patient", "birth_date": "1990-01-01", "sex": "unknown"}
    )
    start = days.midnight() + timedelta(hours=10)  # the doctor works in UTC, all day
    appointment = create(
        "/appointments", {"patient_id": patient["id"], "doctor_id": doctor["id"], "start": start.isoformat()}
    )
    location = create("/locations", {"name": "Fuzz site", "time_zone": "UTC"})
    resource = create(
        "/resources", {"location_id": location["id"], "name": "Fuzz room", "kind": "exam-room", "category": "room"}
    )
    return {
        "doctor_id": doctor["id"],
        "patient_id": patient["id"],
        "appointment_id": appointment["id"],
        "location_id": location["id"],
        "resource_id": resource["id"],
    }


@schema.parametrize()
@schema.given(use_real_ids=st.booleans())
@settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate, Phase.shrink],
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_answers_as_documented(case, use_real_ids, stack, real_ids):
    """Given a staff token, When any request the document allows (or nearly) is sent,
    Then the answer is no 5xx, and its status, content type and body are all documented."""
    if use_real_ids:
        for name in case.path_parameters or {}:
            if name in real_ids:
                case.path_parameters[name] = real_ids[name]
    case.call_and_validate(base_url=stack.url, headers=stack.headers("staff"), checks=CHECKS, timeout=30)
