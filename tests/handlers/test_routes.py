"""The route declaration (clinic.routes) is the single source: a route missing from it is denied,
every route that touches patient data is audited, and every audited request leaves a record."""

from __future__ import annotations

import uuid

import pytest

from clinic import access, routes
from clinic.data.permissions import PERMISSIONS
from clinic.errors import Forbidden
from clinic.identity import Caller
from tests.claims import claims_of
from tests.handlers.conftest import event_for, load_function

PATIENT_DATA_TABLES = {"PatientsTable", "AppointmentsTable", "AuditTable"}
STAFF = claims_of("staff", sub="staff-routes")


def test_an_undeclared_route_admits_nobody_not_even_staff():
    with pytest.raises(Forbidden):
        access.check_route(Caller(sub="s", groups=frozenset({"staff"})), routes.find("DELETE", "/patients"))


def test_an_endpoint_for_an_undeclared_function_cannot_be_made():
    from clinic.api import endpoint

    with pytest.raises(LookupError):
        endpoint("NoSuchFunction")(lambda request: None)


def test_a_request_routed_to_the_wrong_function_is_denied(invoke, aws):
    # Given the GetPatient function, when it receives an event for a route it does not serve
    wrong = event_for("DELETE", "/patients/{patient_id}", {"patient_id": str(uuid.uuid4())}, claims=STAFF)
    response = invoke("GetPatientFunction", wrong)
    # Then it refuses, whoever asks
    assert response["statusCode"] == 403 and response["json"]["code"] == "FORBIDDEN"


@pytest.mark.parametrize("route", routes.ROUTES, ids=lambda r: r.function)
def test_a_route_that_touches_patient_data_declares_its_audit_action(route):
    # (health.probe reads a key that never exists in each table: no data)
    tables = {grant.table for name in route.permissions if name != "health.probe" for grant in PERMISSIONS[name]}
    if tables & PATIENT_DATA_TABLES:
        assert route.audit, f"{route.function} reads or writes patient data but declares no audit action"


@pytest.mark.parametrize("route", [r for r in routes.ROUTES if r.audit], ids=lambda r: r.function)
def test_every_audited_route_leaves_a_record_whatever_the_answer(invoke, aws, route):
    # Given any request on an audited route — here one that is refused or finds nothing
    ids = {name: str(uuid.uuid4()) for name in ("patient_id", "doctor_id", "appointment_id")}
    path = {k: v for k, v in ids.items() if "{" + k + "}" in route.path}
    response = invoke(route.logical_id, event_for(route.method, route.path, path or None, body={}, claims=STAFF))
    # Then the audit table holds a record of it, with the route's action and the answer's status
    table = next(n for n in aws.list_tables()["TableNames"] if n.endswith("AuditTable"))
    records = [i for i in aws.scan(TableName=table)["Items"] if i["action"]["S"] == route.audit]
    assert records, f"{route.function} answered {response['statusCode']} and left no audit record"
    assert {int(r["status"]["N"]) for r in records} == {response["statusCode"]}


def test_every_declared_function_has_its_handler_and_event_file():
    from local_stack import ROOT

    for route in routes.ROUTES:
        assert (ROOT / "functions" / route.code_dir / "app.py").is_file(), route.function
        assert list((ROOT / "events").glob(f"{route.code_dir}.json")) + list(
            (ROOT / "events").glob(f"{route.code_dir}-*.json")
        ), f"no events/{route.code_dir}[-case].json"
        assert load_function(route.logical_id).lambda_handler.route is route
