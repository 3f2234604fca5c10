"""The FHIR R4 view over real HTTP (the local stack): every FHIR route for every role — staff, a doctor, a
patient, a signed-in user in no group — on their own and on someone else's records, answering
application/fhir+json (OperationOutcome for 403/404/422/400), each body validated; the gateway's own 401 stays
problem+json; link next is a working absolute URL; CapabilityStatement's base URL is the stack's."""

from __future__ import annotations

from datetime import timedelta

import pytest
import requests

from tests import days
from tests.days import at
from tests.handlers.test_appointments import DOCTOR, PATIENT

pytestmark = pytest.mark.integration

FHIR_JSON = "application/fhir+json"
OK, FORBIDDEN, HIDDEN = 200, 403, 404
ROLES = ("staff", "doctor", "patient", "nobody")


@pytest.fixture(scope="module")
def clinic(stack) -> dict:
    """Doctors D1, D2; patients P1 (two appointments with D1), P2 (one with D2)."""
    staff = stack.headers("staff")

    def post(path: str, body: dict) -> str:
        response = requests.post(stack.url + path, json=body, headers=staff, timeout=30)
        assert response.status_code == 201, response.text
        return response.json()["id"]

    day = days.monday(weeks_later=2)
    w = {
        "D1": post("/doctors", DOCTOR),
        "D2": post("/doctors", {**DOCTOR, "family_name": "Second"}),
        "P1": post("/patients", PATIENT),
        "P2": post("/patients", {**PATIENT, "given_name": "Second"}),
        "day": day,
    }
    w["A1"] = post("/appointments", {"patient_id": w["P1"], "doctor_id": w["D1"], "start": at(day, "09:00")})
    w["A1b"] = post("/appointments", {"patient_id": w["P1"], "doctor_id": w["D1"], "start": at(day, "09:30")})
    w["A2"] = post("/appointments", {"patient_id": w["P2"], "doctor_id": w["D2"], "start": at(day, "09:00")})
    return w


def headers_of(stack, role: str, w: dict) -> dict[str, str]:
    token = {
        "staff": lambda: stack.token("staff"),
        "doctor": lambda: stack.token("doctor", w["D1"]),
        "patient": lambda: stack.token("patient", w["P1"]),
        "nobody": lambda: stack.token("staff", sub="fhir-nobody", **{"cognito:groups": []}),
    }[role]()
    return {"Authorization": f"Bearer {token}"}


def window(w: dict) -> list[tuple[str, str]]:
    return [("date", f"ge{w['day']}"), ("date", f"lt{w['day'] + timedelta(days=1)}")]


# (name, path and query (world, own?), expected by role for own / other)
CASES = [
    (
        "Patient",
        lambda w, own: (f"/fhir/Patient/{w['P1' if own else 'P2']}", []),
        {"staff": OK, "doctor": OK, "patient": OK, "nobody": FORBIDDEN},
        {"staff": OK, "doctor": HIDDEN, "patient": HIDDEN, "nobody": FORBIDDEN},
    ),
    (
        "Practitioner",
        lambda w, own: (f"/fhir/Practitioner/{w['D1' if own else 'D2']}", []),
        dict.fromkeys(ROLES, OK),
        dict.fromkeys(ROLES, OK),
    ),
    (
        "Schedule",
        lambda w, own: (f"/fhir/Schedule/{w['D1' if own else 'D2']}", []),
        dict.fromkeys(ROLES, OK),
        dict.fromkeys(ROLES, OK),
    ),
    (
        "Schedule search",
        lambda w, own: ("/fhir/Schedule", [("actor", f"Practitioner/{w['D1' if own else 'D2']}")]),
        dict.fromkeys(ROLES, OK),
        dict.fromkeys(ROLES, OK),
    ),
    (
        "Slot search",
        lambda w, own: (
            "/fhir/Slot",
            [
                ("schedule", f"Schedule/{w['D1' if own else 'D2']}"),
                ("start", f"ge{at(w['day'], '00:00')}"),
                ("start", f"lt{at(w['day'], '23:00')}"),
            ],
        ),
        dict.fromkeys(ROLES, OK),
        dict.fromkeys(ROLES, OK),
    ),
    (
        "Appointment",
        lambda w, own: (f"/fhir/Appointment/{w['A1' if own else 'A2']}", []),
        {"staff": OK, "doctor": OK, "patient": OK, "nobody": FORBIDDEN},
        {"staff": OK, "doctor": HIDDEN, "patient": HIDDEN, "nobody": FORBIDDEN},
    ),
    (
        "Appointment by patient",
        lambda w, own: ("/fhir/Appointment", [("patient", f"Patient/{w['P1' if own else 'P2']}")]),
        {"staff": OK, "doctor": FORBIDDEN, "patient": OK, "nobody": FORBIDDEN},
        {"staff": OK, "doctor": FORBIDDEN, "patient": HIDDEN, "nobody": FORBIDDEN},
    ),
    (
        "Appointment by practitioner",
        lambda w, own: (
            "/fhir/Appointment",
            [("practitioner", f"Practitioner/{w['D1' if own else 'D2']}"), *window(w)],
        ),
        {"staff": OK, "doctor": OK, "patient": FORBIDDEN, "nobody": FORBIDDEN},
        {"staff": OK, "doctor": FORBIDDEN, "patient": FORBIDDEN, "nobody": FORBIDDEN},
    ),
]


def fhir_answer(response: requests.Response, validator, status: int) -> dict:
    assert response.status_code == status, (response.request.url, response.text)
    assert response.headers["Content-Type"] == FHIR_JSON, response.headers
    assert response.headers.get("X-Request-Id")
    body = response.json()
    validator.assert_valid(body)
    if status >= 400:
        assert body["resourceType"] == "OperationOutcome", body
        code = {403: "FORBIDDEN", 404: "NOT_FOUND", 422: "VALIDATION_ERROR", 400: "VALIDATION_ERROR"}[status]
        assert body["issue"][0]["details"]["coding"][0]["code"] == code, body
    return body


@pytest.mark.parametrize("role", ROLES)
def test_every_fhir_route_for_a_role_answers_fhir_as_its_native_twin(stack, clinic, fhir_validator, role):
    headers = headers_of(stack, role, clinic)
    for name, request_for, own, other in CASES:
        for is_own, expected in ((True, own[role]), (False, other[role])):
            path, query = request_for(clinic, is_own)
            response = requests.get(stack.url + path, params=query, headers=headers, timeout=30)
            body = fhir_answer(response, fhir_validator, expected)
            if expected == OK and body["resourceType"] == "Bundle":
                assert body["type"] == "searchset" and body["link"][0]["relation"] == "self", (name, body)
    # unknown records and bad parameters: OperationOutcome too, for every role the route admits
    if role != "nobody":
        fhir_answer(
            requests.get(f"{stack.url}/fhir/Practitioner/{clinic['P1']}", headers=headers, timeout=30),
            fhir_validator,
            404,
        )
        bad = [("schedule", f"Schedule/{clinic['D1']}"), ("start", f"ge{clinic['day']}"), ("_count", "500")]
        fhir_answer(
            requests.get(f"{stack.url}/fhir/Slot", params=bad, headers=headers, timeout=30), fhir_validator, 422
        )


def test_metadata_needs_no_token_and_names_the_stacks_base(stack, fhir_validator):
    statement = fhir_answer(requests.get(f"{stack.url}/fhir/metadata", timeout=30), fhir_validator, 200)
    assert statement["resourceType"] == "CapabilityStatement"
    assert statement["implementation"]["url"] == f"{stack.url}/fhir"


def test_without_a_token_the_gateway_answers_401_problem_json(stack, clinic):
    response = requests.get(f"{stack.url}/fhir/Patient/{clinic['P1']}", timeout=30)
    assert response.status_code == 401 and response.headers["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "UNAUTHENTICATED"


def test_link_next_is_a_working_url_and_strict_handling_refuses_unknown_parameters(stack, clinic, fhir_validator):
    headers = headers_of(stack, "patient", clinic)
    url, found = f"{stack.url}/fhir/Appointment?patient=Patient/{clinic['P1']}&_count=1", []
    while url:
        bundle = fhir_answer(requests.get(url, headers=headers, timeout=30), fhir_validator, 200)
        found += [e["resource"]["id"] for e in bundle.get("entry", [])]
        url = next((link["url"] for link in bundle["link"] if link["relation"] == "next"), None)
        assert url is None or url.startswith(f"{stack.url}/fhir/Appointment?")
    assert found == [clinic["A1"], clinic["A1b"]]
    query = [("patient", f"Patient/{clinic['P1']}"), ("_sort", "date")]
    lenient = fhir_answer(
        requests.get(f"{stack.url}/fhir/Appointment", params=query, headers=headers, timeout=30), fhir_validator, 200
    )
    assert lenient["entry"][-1]["search"]["mode"] == "outcome"
    strict = requests.get(
        f"{stack.url}/fhir/Appointment", params=query, timeout=30, headers={**headers, "Prefer": "handling=strict"}
    )
    fhir_answer(strict, fhir_validator, 400)
