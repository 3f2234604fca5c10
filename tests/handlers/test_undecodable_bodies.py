"""Found by fuzzing the contract: a body whose bytes are not UTF-8 is malformed JSON (400), never a 500."""

from __future__ import annotations

import base64
import uuid

import pytest

from tests.handlers.conftest import event_for
from tests.handlers.helpers import problem

NOT_UTF8 = base64.b64encode(b"`\xff{\x15\xce\x86").decode()
SOME_ID = str(uuid.uuid4())


@pytest.mark.parametrize(
    "logical_id, method, resource, path",
    [
        ("RegisterPatientFunction", "POST", "/patients", None),
        ("SearchPatientsFunction", "POST", "/patients/search", None),
        ("BookAppointmentFunction", "POST", "/appointments", None),
        ("UpdateDoctorFunction", "PATCH", "/doctors/{doctor_id}", {"doctor_id": SOME_ID}),
        ("CancelAppointmentFunction", "POST", "/appointments/{appointment_id}/cancel", {"appointment_id": SOME_ID}),
    ],
)
def test_given_a_body_that_is_not_utf8_when_sent_then_400_malformed_json(invoke, logical_id, method, resource, path):
    event = event_for(method, resource, path, raw_body=NOT_UTF8)
    event["isBase64Encoded"] = True
    body = problem(invoke(logical_id, event), 400, "MALFORMED_JSON")
    assert "Traceback" not in str(body)
