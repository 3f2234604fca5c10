"""Errors never repeat patient data: an unexpected error is logged once with its type and where it
happened but never its message, and a validation error names the field without quoting the value.
(Messages quote values, and values can be patient data.)"""

from __future__ import annotations

import json

from tests.handlers.conftest import event_for

PATIENT = {"given_name": "Zebedee", "family_name": "Quillfeather", "birth_date": "1977-07-17", "sex": "male"}


def test_an_unexpected_error_logs_type_and_frames_but_not_its_message(invoke, aws, monkeypatch, caplog):
    from clinic.services import patients

    def explode(*_args, **_kwargs):
        raise KeyError(f"{PATIENT['family_name']} {PATIENT['birth_date']}")  # a message that quotes PHI

    monkeypatch.setattr(patients, "register", explode)
    caplog.clear()
    response = invoke("RegisterPatientFunction", event_for("POST", "/patients", body=PATIENT))

    assert response["statusCode"] == 500 and response["json"]["code"] == "INTERNAL_ERROR"
    assert PATIENT["family_name"] not in json.dumps(response["json"])
    errors = [r for r in caplog.records if r.levelname == "ERROR"]
    assert len(errors) == 1
    (error,) = errors
    assert error.exception_name == "KeyError" and any("explode" in frame for frame in error.stack)
    assert error.exc_info is None  # no traceback text, which would carry the message
    from clinic.observability import logger

    line = logger.registered_formatter.format(error)  # the JSON line CloudWatch would get
    assert PATIENT["family_name"] not in line and PATIENT["birth_date"] not in line


def test_an_invalid_email_is_refused_without_quoting_it(invoke, aws):
    body = {**PATIENT, "email": "zebedee@quill_feather.example"}
    response = invoke("RegisterPatientFunction", event_for("POST", "/patients", body=body))
    assert response["statusCode"] == 422, response
    (error,) = response["json"]["errors"]
    assert error == {"field": "email", "message": "value is not a valid email address"}
    assert "quill" not in json.dumps(response["json"]) and "'_'" not in json.dumps(response["json"])
