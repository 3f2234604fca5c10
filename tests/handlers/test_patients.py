"""Patients through their functions: register, read, update, list, search, and every bad input."""

from __future__ import annotations

import json

import pytest

from tests.handlers.helpers import event, problem, snapshot

NEW_PATIENT = {
    "given_name": "Grace",
    "family_name": "Hopper",
    "birth_date": "1986-12-09",
    "sex": "female",
    "phone": "+15555550123",
    "email": "grace@example.org",
    "conditions": ["asthma"],
}


def register(invoke, **fields) -> dict:
    response = invoke("RegisterPatientFunction", event("register_patient", body={**NEW_PATIENT, **fields}))
    assert response["statusCode"] == 201, response
    return response


def test_register_answers_201_with_location_and_computed_fields(invoke):
    # Given a valid patient, When staff register it
    response = register(invoke)
    body = response["json"]
    # Then the answer is the stored patient, with server-owned fields
    assert response["headers"]["Location"] == f"/patients/{body['id']}"
    assert response["headers"]["X-Request-Id"]
    assert body["active"] is True and isinstance(body["age"], int) and body["age"] >= 39
    assert body["created_at"].endswith("Z") and body["updated_at"].endswith("Z")
    assert body["conditions"] == ["asthma"]
    # And reading it back gives the same record
    got = invoke("GetPatientFunction", event("get_patient", path={"patient_id": body["id"]}))
    assert got["statusCode"] == 200 and got["json"] == body


@pytest.mark.parametrize(
    "name, status, code",
    [
        ("register_patient-malformed_json", 400, "MALFORMED_JSON"),
        ("register_patient-unknown_field", 422, "VALIDATION_ERROR"),
        ("register_patient-invalid", 422, "VALIDATION_ERROR"),
    ],
)
def test_bad_registrations_are_refused_and_change_nothing(invoke, aws, name, status, code):
    before = snapshot(aws)
    body = problem(invoke("RegisterPatientFunction", event(name)), status, code)
    assert snapshot(aws) == before
    if code == "VALIDATION_ERROR":
        assert body["errors"], body


def test_every_invalid_field_is_listed(invoke):
    body = problem(invoke("RegisterPatientFunction", event("register_patient-invalid")), 422, "VALIDATION_ERROR")
    fields = {e["field"] for e in body["errors"]}
    assert {"birth_date", "sex", "phone"} <= fields
    # and no submitted value is echoed back
    assert "2999-01-01" not in json.dumps(body) and "robot" not in json.dumps(body)


def test_server_owned_fields_cannot_be_set(invoke, aws):
    body = problem(invoke("RegisterPatientFunction", event("register_patient-unknown_field")), 422, "VALIDATION_ERROR")
    assert {"id", "is_admin"} <= {e["field"] for e in body["errors"]}


def test_body_over_64_kib_is_refused(invoke, aws):
    before = snapshot(aws)
    huge = {**NEW_PATIENT, "conditions": ["x" * 200] * 50, "given_name": "G" * 70_000}
    response = invoke("RegisterPatientFunction", event("register_patient", body=huge))
    assert response["statusCode"] in (413, 422)
    assert response["headers"]["X-Request-Id"]
    assert snapshot(aws) == before


@pytest.mark.parametrize("birth_date", ["1899-12-31", "2999-01-01", "1990-02-30", "19900101"])
def test_implausible_birth_dates_are_422(invoke, birth_date):
    problem(
        invoke("RegisterPatientFunction", event("register_patient", body={**NEW_PATIENT, "birth_date": birth_date})),
        422,
        "VALIDATION_ERROR",
    )


@pytest.mark.parametrize("name", ["get_patient-unknown", "get_patient-malformed_id"])
def test_unknown_or_malformed_id_is_404(invoke, name):
    problem(invoke("GetPatientFunction", event(name)), 404, "NOT_FOUND")


def test_update_changes_only_given_fields_and_keeps_server_fields(invoke):
    created = register(invoke)["json"]
    response = invoke(
        "UpdatePatientFunction",
        event("update_patient", path={"patient_id": created["id"]}, body={"phone": "+15555550199", "email": None}),
    )
    assert response["statusCode"] == 200, response
    body = response["json"]
    assert body["phone"] == "+15555550199" and body["email"] is None
    assert body["given_name"] == "Grace" and body["id"] == created["id"] and body["created_at"] == created["created_at"]


def test_update_refuses_server_owned_fields_and_changes_nothing(invoke, aws):
    created = register(invoke)["json"]
    before = snapshot(aws)
    problem(
        invoke("UpdatePatientFunction", event("update_patient-server_field", path={"patient_id": created["id"]})),
        422,
        "VALIDATION_ERROR",
    )
    problem(
        invoke(
            "UpdatePatientFunction",
            event("update_patient", path={"patient_id": created["id"]}, body={"given_name": None}),
        ),
        422,
        "VALIDATION_ERROR",
    )
    problem(
        invoke("UpdatePatientFunction", event("update_patient", path={"patient_id": created["id"]}, body="{not json")),
        400,
        "MALFORMED_JSON",
    )
    assert snapshot(aws) == before


def test_update_of_unknown_patient_is_404(invoke):
    problem(invoke("UpdatePatientFunction", event("update_patient", path={"patient_id": "nope"})), 404, "NOT_FOUND")


def _unbase64(token: str) -> bytes:
    import base64

    try:
        return base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except ValueError:
        return b""


def test_list_pages_with_opaque_tokens(invoke):
    ids = {register(invoke, given_name=f"P{i}")["json"]["id"] for i in range(5)}
    seen, token, pages = set(), None, 0
    while True:
        query = {"limit": "2", **({"next_token": token} if token else {})}
        response = invoke("ListPatientsFunction", event("list_patients", query=query))
        assert response["statusCode"] == 200, response
        seen |= {p["id"] for p in response["json"]["items"]}
        token = response["json"]["next_token"]
        pages += 1
        if token is None:
            break
        assert not any(i in token or i.encode() in _unbase64(token) for i in ids)  # opaque: no id, even decoded
    assert seen == ids and pages >= 3


@pytest.mark.parametrize(
    "query", [{"next_token": "not-a-real-token"}, {"limit": "0"}, {"limit": "101"}, {"limit": "ten"}]
)
def test_bad_list_parameters_are_422(invoke, query):
    problem(invoke("ListPatientsFunction", event("list_patients", query=query)), 422, "VALIDATION_ERROR")


def test_a_tampered_token_is_refused(invoke):
    for i in range(3):
        register(invoke, given_name=f"T{i}")
    first = invoke("ListPatientsFunction", event("list_patients", query={"limit": "1"}))["json"]
    token = first["next_token"]
    tampered = token[:-6] + ("A" if token[-6] != "A" else "B") + token[-5:]
    problem(
        invoke("ListPatientsFunction", event("list_patients", query={"next_token": tampered})), 422, "VALIDATION_ERROR"
    )
    # a token from another query is refused too
    problem(
        invoke(
            "SearchPatientsFunction", event("search_patients", body={"family_name_prefix": "h", "next_token": token})
        ),
        422,
        "VALIDATION_ERROR",
    )


def test_search_by_prefix_is_case_insensitive_and_by_birth_date(invoke):
    hopper = register(invoke)["json"]
    register(invoke, family_name="Hopkins", birth_date="1970-01-01")
    register(invoke, family_name="Lovelace", birth_date="1986-12-09")

    def search(criteria):
        response = invoke("SearchPatientsFunction", event("search_patients", body=criteria))
        assert response["statusCode"] == 200, response
        return sorted(p["family_name"] for p in response["json"]["items"])

    assert search({"family_name_prefix": "HOP"}) == ["Hopkins", "Hopper"]
    assert search({"family_name_prefix": "hopp"}) == ["Hopper"]
    assert search({"birth_date": "1986-12-09"}) == ["Hopper", "Lovelace"]
    assert search({"birth_date": "1986-12-09", "family_name_prefix": "lo"}) == ["Lovelace"]
    assert search({"family_name_prefix": "zz"}) == []
    assert hopper["id"]


def test_search_needs_a_criterion(invoke):
    problem(invoke("SearchPatientsFunction", event("search_patients-no_criteria")), 422, "VALIDATION_ERROR")


def test_search_is_a_query_on_an_index_never_a_scan(invoke, aws):
    register(invoke)
    import boto3

    from clinic.data import dynamo

    operations = []
    dynamo.resource().meta.client.meta.events.register(
        "before-parameter-build.dynamodb",
        lambda model, params, **_: (
            operations.append(model.name)
            if not params.get("TableName", "").endswith("AuditTable") and "TransactItems" not in params
            else None
        ),
    )
    invoke("SearchPatientsFunction", event("search_patients"))
    invoke("SearchPatientsFunction", event("search_patients", body={"birth_date": "1986-12-09"}))
    assert operations == ["Query", "Query"]
    del boto3
