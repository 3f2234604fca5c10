"""Doctors through their functions: create, read, update, list by specialty, and bad input."""

from __future__ import annotations

import pytest

from tests.handlers.helpers import event, problem, snapshot

NEW_DOCTOR = {
    "given_name": "Joseph",
    "family_name": "Lister",
    "specialty": "Surgery",
    "time_zone": "Europe/London",
    "slot_minutes": 30,
    "working_hours": {"mon": [{"start": "09:00", "end": "12:00"}]},
}


def create(invoke, **fields) -> dict:
    response = invoke("CreateDoctorFunction", event("create_doctor", body={**NEW_DOCTOR, **fields}))
    assert response["statusCode"] == 201, response
    return response["json"]


def test_create_answers_201_with_location_and_defaults(invoke):
    response = invoke(
        "CreateDoctorFunction",
        event(
            "create_doctor",
            body={"given_name": "A", "family_name": "B", "specialty": "Cardiology", "time_zone": "Asia/Kathmandu"},
        ),
    )
    assert response["statusCode"] == 201, response
    body = response["json"]
    assert response["headers"]["Location"] == f"/doctors/{body['id']}"
    assert body["slot_minutes"] == 15 and body["working_hours"] == {} and body["active"] is True
    got = invoke("GetDoctorFunction", event("get_doctor", path={"doctor_id": body["id"]}))
    assert got["statusCode"] == 200 and got["json"] == body


@pytest.mark.parametrize("name", ["create_doctor-unknown_zone", "create_doctor-off_grid"])
def test_bad_doctors_are_422_and_change_nothing(invoke, aws, name):
    before = snapshot(aws)
    problem(invoke("CreateDoctorFunction", event(name)), 422, "VALIDATION_ERROR")
    assert snapshot(aws) == before


@pytest.mark.parametrize(
    "fields",
    [
        {"slot_minutes": 25},
        {"time_zone": "localtime"},
        {"working_hours": {"mon": [{"start": "12:00", "end": "09:00"}]}},
        {"working_hours": {"mon": [{"start": "09:00", "end": "12:00"}, {"start": "11:30", "end": "13:00"}]}},
        {"working_hours": {"funday": [{"start": "09:00", "end": "12:00"}]}},
        {"working_hours": {"mon": [{"start": "9:00", "end": "12:00"}]}},
        {"working_hours": {"mon": [{"start": "24:00", "end": "24:00"}]}},
        {"specialty": ""},
        {"status": "active"},
    ],
)
def test_invalid_doctor_fields_are_422(invoke, fields):
    problem(
        invoke("CreateDoctorFunction", event("create_doctor", body={**NEW_DOCTOR, **fields})), 422, "VALIDATION_ERROR"
    )


def test_working_hours_may_end_at_midnight(invoke):
    doctor = create(invoke, working_hours={"fri": [{"start": "20:00", "end": "24:00"}]})
    assert doctor["working_hours"]["fri"] == [{"start": "20:00", "end": "24:00", "location_id": None}]


def test_specialty_filter_matches_the_whole_specialty_ignoring_case(invoke):
    create(invoke, specialty="Family Medicine")
    create(invoke, specialty="family medicine")
    create(invoke, specialty="Family Medicine and Surgery")
    response = invoke("ListDoctorsFunction", event("list_doctors-specialty"))
    assert response["statusCode"] == 200, response
    assert sorted(d["specialty"] for d in response["json"]["items"]) == ["Family Medicine", "family medicine"]


def test_list_without_filter_pages_through_everyone(invoke):
    ids = {create(invoke, given_name=f"D{i}")["id"] for i in range(3)}
    seen, token = set(), None
    while True:
        query = {"limit": "1", **({"next_token": token} if token else {})}
        body = invoke("ListDoctorsFunction", event("list_doctors", query=query))["json"]
        seen |= {d["id"] for d in body["items"]}
        token = body["next_token"]
        if not token:
            break
    assert seen == ids


def test_update_revalidates_the_whole_doctor(invoke, aws):
    doctor = create(invoke)
    before = snapshot(aws)
    # 09:00-12:00 is on a 30-minute grid but a 60-minute grid too; 09:30 would not be:
    off = invoke(
        "UpdateDoctorFunction",
        event(
            "update_doctor",
            path={"doctor_id": doctor["id"]},
            body={"working_hours": {"mon": [{"start": "09:30", "end": "12:00"}]}, "slot_minutes": 60},
        ),
    )
    problem(off, 422, "VALIDATION_ERROR")
    assert snapshot(aws) == before
    ok = invoke(
        "UpdateDoctorFunction",
        event("update_doctor", path={"doctor_id": doctor["id"]}, body={"slot_minutes": 60, "active": False}),
    )
    assert ok["statusCode"] == 200, ok
    assert ok["json"]["slot_minutes"] == 60 and ok["json"]["active"] is False
    assert ok["json"]["working_hours"] == doctor["working_hours"]


@pytest.mark.parametrize("name", ["get_doctor-unknown"])
def test_unknown_doctor_is_404(invoke, name):
    problem(invoke("GetDoctorFunction", event(name)), 404, "NOT_FOUND")
    problem(invoke("UpdateDoctorFunction", event("update_doctor", path={"doctor_id": "x"})), 404, "NOT_FOUND")


def test_health_reports_storage_and_version(invoke):
    response = invoke("HealthFunction", event("health"))
    assert response["statusCode"] == 200, response
    assert response["json"]["status"] == "ok" and set(response["json"]["checks"]) == {
        "patients",
        "doctors",
        "appointments",
        "slot_locks",
    }
    assert response["json"]["version"]
