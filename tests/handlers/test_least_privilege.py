"""Least privilege, proven: every function is invoked through a full scenario while botocore's
event hooks record each DynamoDB action it takes (and, inside a transaction, each item's action),
on which table and index. Each must be allowed by that function's own policy in template.yaml, and
each permission in the template must be used — no more, no less. On the slot-locks table, whose
items belong to doctors and patients, each call's items must also be of an owner its grant names
(IAM's dynamodb:LeadingKeys), where the grant names any."""

from __future__ import annotations

import re
import uuid
from collections import defaultdict

import boto3
import pytest
from boto3.dynamodb.conditions import Key

from clinic import routes
from clinic.identity import DOCTORS
from local_stack import template as tpl
from tests import days
from tests.claims import claims_of
from tests.days import at
from tests.handlers.conftest import event_for, load_event
from tests.handlers.test_appointments import DOCTOR, PATIENT

_TRANSACT = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem", "ConditionCheck": "ConditionCheckItem"}


def _logical_ids() -> dict[str, str]:
    return {table.name: table.logical_id for table in tpl.tables()}


def allowed_by_template() -> dict[str, set[tuple[str, str, str | None]]]:
    """Function → {(action, table logical id, index or None)} from its policy statements."""
    result: dict[str, set] = defaultdict(set)
    for name, resource in tpl.load()["Resources"].items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        for policy in resource["Properties"].get("Policies", []):
            assert isinstance(policy, dict) and "Statement" in policy, f"{name}: only inline statements, no *Policy"
            for statement in policy["Statement"]:
                assert statement["Effect"] == "Allow"
                if statement["Action"] == ["secretsmanager:GetSecretValue"]:
                    assert statement["Resource"] == {"Ref": "PaginationSecret"}, name  # checked below
                    continue
                if not all(a.startswith("dynamodb:") for a in statement["Action"]):
                    # the bus, the scheduler, passing its role and the schedules' key: granted only where
                    # declared (permissions.py; tests/template/test_security.py pins each)
                    assert all(a.split(":")[0] in ("events", "scheduler", "iam", "kms") for a in statement["Action"]), (
                        name
                    )
                    continue
                targets = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
                for action in statement["Action"]:
                    assert action.startswith("dynamodb:") and "*" not in action, (name, action)
                    for target in targets:
                        result[name].add((action.split(":", 1)[1], *_target(target)))
    return result


def owners_allowed_by_template() -> dict[str, dict[str, set[str] | None]]:
    """Function → slot-locks action → the owner prefixes its grants allow (None: every item)."""
    result: dict[str, dict[str, set[str] | None]] = defaultdict(dict)
    for name, resource in tpl.load()["Resources"].items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        for policy in resource["Properties"].get("Policies", []):
            for statement in policy["Statement"]:
                if statement["Resource"] != {"Fn::GetAtt": ["SlotLocksTable", "Arn"]}:
                    continue
                leading = statement.get("Condition", {}).get("ForAllValues:StringLike", {}).get("dynamodb:LeadingKeys")
                for action in statement["Action"]:
                    action = action.split(":", 1)[1]
                    if leading is None or result[name].get(action, set()) is None:
                        result[name][action] = None
                    else:
                        result[name].setdefault(action, set()).update(p.removesuffix("*") for p in leading)
    return result


def _owners(operation: str, params: dict, table_name: str) -> set[str]:
    """The partition keys (owners) of the slot-locks items a call reads or writes."""
    if operation == "Query":
        return {_equals_value(params["KeyConditionExpression"], "owner")}
    if operation == "BatchGetItem":
        return {key["owner"] for key in params["RequestItems"][table_name]["Keys"]}
    return {params["Key"]["owner"]}


def _equals_value(condition, name: str) -> str:
    """The value a boto3 key condition sets ``name`` equal to (``Key(name).eq(value) & ...``)."""
    from boto3.dynamodb.conditions import Equals, Key

    if isinstance(condition, Equals) and isinstance(condition._values[0], Key) and condition._values[0].name == name:
        return condition._values[1]
    for part in getattr(condition, "_values", ()):
        if hasattr(part, "_values"):
            found = _equals_value(part, name)
            if found:
                return found
    return ""


def _target(target) -> tuple[str, str | None]:
    if "Fn::GetAtt" in target:
        return target["Fn::GetAtt"][0], None
    text = target["Fn::Sub"]  # "${AppointmentsTable.Arn}/index/<name>"
    logical, _, rest = text.removeprefix("${").partition(".Arn}")
    return logical, rest.removeprefix("/index/")


@pytest.fixture
def recorder(aws, monkeypatch):
    """Every DynamoDB call of every boto3 client (ours and Powertools' idempotency client)."""
    from botocore.client import BaseClient

    names = _logical_ids()
    seen: dict[str, set] = defaultdict(set)
    owners: dict[str, set] = defaultdict(set)  # function → {(slot-locks action, owner)}
    current = {"function": None}
    original = BaseClient._make_api_call

    def record(client, operation, params):
        if client.meta.service_model.service_name == "dynamodb":
            function = current["function"]
            if operation == "TransactWriteItems":
                for item in params["TransactItems"]:
                    ((kind, body),) = item.items()
                    seen[function].add((_TRANSACT[kind], names[body["TableName"]], None))
                    if names[body["TableName"]] == "SlotLocksTable":
                        owners[function].add((_TRANSACT[kind], (body.get("Key") or body["Item"])["owner"]))
            elif operation in ("BatchGetItem", "BatchWriteItem"):
                for table_name in params["RequestItems"]:
                    seen[function].add((operation, names[table_name], None))
                    if names[table_name] == "SlotLocksTable":
                        owners[function] |= {(operation, o) for o in _owners(operation, params, table_name)}
            else:
                seen[function].add((operation, names[params["TableName"]], params.get("IndexName")))
                if names[params["TableName"]] == "SlotLocksTable" and not params.get("IndexName"):
                    owners[function] |= {(operation, o) for o in _owners(operation, params, params["TableName"])}
        return original(client, operation, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", record)
    return seen, current, owners


def test_each_function_uses_exactly_the_permissions_its_policy_grants(invoke, recorder):
    seen, current, owners = recorder
    day = days.monday(weeks_later=2)

    def call(function, method, resource, path=None, body=None, query=None, claims=None, key=None, status=None):
        current["function"] = function
        request = event_for(
            method,
            resource,
            path,
            body=body,
            query=query,
            claims=claims or claims_of("staff", sub="staff-1"),
        )
        if key:
            request["headers"]["Idempotency-Key"] = key
        response = invoke(function, request)
        assert response["statusCode"] == status if status else response["statusCode"] < 400, (function, response)
        return response["json"]

    def drop_copies(location_id):  # membership items as written before they carried the doctor's copy
        from clinic.config import settings

        current["function"] = "the test itself"
        table = boto3.resource("dynamodb", region_name="us-east-1").Table(settings().slot_locks_table)
        for item in table.query(KeyConditionExpression=Key("owner").eq(f"location#{location_id}"))["Items"]:
            table.update_item(Key={"owner": item["owner"], "hour": item["hour"]}, UpdateExpression="REMOVE doctor")
        seen.pop("the test itself"), owners.pop("the test itself", None)

    def twice(*args, **kwargs):  # with a key, then its replay (which reads the stored answer)
        call(*args, **kwargs)
        return call(*args, **kwargs)

    doctor = twice("CreateDoctorFunction", "POST", "/doctors", body=DOCTOR, key="d-1")["id"]
    patient = twice("RegisterPatientFunction", "POST", "/patients", body=PATIENT, key="p-1")["id"]
    call("HealthFunction", "GET", "/health")
    call("ListDoctorsFunction", "GET", "/doctors")
    call("ListDoctorsFunction", "GET", "/doctors", query={"specialty": DOCTOR["specialty"]})
    call("GetDoctorFunction", "GET", "/doctors/{doctor_id}", {"doctor_id": doctor})
    call("UpdateDoctorFunction", "PATCH", "/doctors/{doctor_id}", {"doctor_id": doctor}, body={"specialty": "GP"})
    # locations, rooms and equipment; doctors at locations (joining one, then leaving it for another)
    site = {"name": "North", "time_zone": DOCTOR["time_zone"]}
    north = twice("CreateLocationFunction", "POST", "/locations", body=site, key="l-1")["id"]
    south = call("CreateLocationFunction", "POST", "/locations", body={**site, "name": "South"})["id"]
    call("ListLocationsFunction", "GET", "/locations")
    call("GetLocationFunction", "GET", "/locations/{location_id}", {"location_id": north})
    call("UpdateLocationFunction", "PATCH", "/locations/{location_id}", {"location_id": north}, body={"name": "N"})
    room = {"location_id": north, "name": "Room 1", "kind": "exam-room", "category": "room"}
    resource = twice("CreateResourceFunction", "POST", "/resources", body=room, key="r-1")["id"]
    call(  # at an unknown location: 404 after validation, so the key's record is let go
        "CreateResourceFunction",
        "POST",
        "/resources",
        body={**room, "location_id": str(uuid.uuid4())},
        key="r-2",
        status=404,
    )
    call("ListResourcesFunction", "GET", "/resources")
    call("ListResourcesFunction", "GET", "/resources", query={"location_id": north, "kind": "exam-room"})
    call("GetResourceFunction", "GET", "/resources/{resource_id}", {"resource_id": resource})
    call("UpdateResourceFunction", "PATCH", "/resources/{resource_id}", {"resource_id": resource}, body={"name": "R"})
    hours_at = lambda location: {"mon": [{"start": "09:00", "end": "12:00", "location_id": location}]}
    sited = call("CreateDoctorFunction", "POST", "/doctors", body={**DOCTOR, "working_hours": hours_at(north)})["id"]
    call(
        "UpdateDoctorFunction",
        "PATCH",
        "/doctors/{doctor_id}",
        {"doctor_id": sited},
        body={"working_hours": hours_at(south)},
    )
    call("ListDoctorsFunction", "GET", "/doctors", query={"location_id": south})
    # time off at a location: the doctor and the copy on its membership item, written together
    away = {"start": at(day, "01:00"), "end": at(day, "02:00"), "kind": "training"}
    sited_away = call("CreateTimeOffFunction", "POST", "/doctors/{doctor_id}/time-off", {"doctor_id": sited}, body=away)
    call(
        "DeleteTimeOffFunction",
        "DELETE",
        "/doctors/{doctor_id}/time-off/{time_off_id}",
        {"doctor_id": sited, "time_off_id": sited_away["id"]},
    )
    drop_copies(south)  # a membership item without a copy: the doctor's record is read
    call("ListDoctorsFunction", "GET", "/doctors", query={"location_id": south})
    call("ListPatientsFunction", "GET", "/patients")
    call("SearchPatientsFunction", "POST", "/patients/search", body={"family_name_prefix": "ie"})
    call("SearchPatientsFunction", "POST", "/patients/search", body={"birth_date": PATIENT["birth_date"]})
    call("UpdatePatientFunction", "PATCH", "/patients/{patient_id}", {"patient_id": patient}, body={"sex": "unknown"})
    window = {"from": at(day, "00:00"), "to": at(day, "23:00")}
    call("DoctorAvailabilityFunction", "GET", "/doctors/{doctor_id}/availability", {"doctor_id": doctor}, query=window)
    booked = call(
        "BookAppointmentFunction",
        "POST",
        "/appointments",
        body={"patient_id": patient, "doctor_id": doctor, "start": at(day, "09:00")},
    )["id"]
    call("GetAppointmentFunction", "GET", "/appointments/{appointment_id}", {"appointment_id": booked})
    # a patient whose one appointment with the doctor was a no-show: nothing live on their link, so a
    # doctor's access is decided by the patient's appointments inside the window (a Query)
    absent = call("RegisterPatientFunction", "POST", "/patients", body={**PATIENT, "given_name": "Absent"})["id"]
    missed = call(
        "BookAppointmentFunction",
        "POST",
        "/appointments",
        body={"patient_id": absent, "doctor_id": doctor, "start": at(day, "16:45")},
    )["id"]
    call(
        "UpdateAppointmentFunction",
        "PATCH",
        "/appointments/{appointment_id}",
        {"appointment_id": missed},
        body={"status": "noshow"},
    )
    for function, route in (
        ("GetPatientFunction", "/patients/{patient_id}"),
        ("FhirReadPatientFunction", "/fhir/Patient/{patient_id}"),
    ):
        call(function, "GET", route, {"patient_id": absent}, claims=claims_of("doctor", doctor, sub="d"))
    call(
        "GetPatientFunction",
        "GET",
        "/patients/{patient_id}",
        {"patient_id": patient},
        claims=claims_of("doctor", doctor, sub="d"),
    )  # a doctor: the link answers (a booked appointment)
    call(
        "SearchPatientsFunction",
        "POST",
        "/patients/search",
        body={"family_name_prefix": "ie"},
        claims=claims_of("doctor", doctor, sub="d"),
    )  # keeps the doctor's patients
    call("DoctorScheduleFunction", "GET", "/doctors/{doctor_id}/schedule", {"doctor_id": doctor}, query=window)
    call("PatientAppointmentsFunction", "GET", "/patients/{patient_id}/appointments", {"patient_id": patient})
    call(
        "UpdateAppointmentFunction",
        "PATCH",
        "/appointments/{appointment_id}",
        {"appointment_id": booked},
        body={"start": at(day, "10:00")},
    )
    call(
        "UpdateAppointmentFunction",
        "PATCH",
        "/appointments/{appointment_id}",
        {"appointment_id": booked},
        body={"status": "arrived"},
    )
    second = twice(
        "BookAppointmentFunction",
        "POST",
        "/appointments",
        key="b-2",
        body={"patient_id": patient, "doctor_id": doctor, "start": at(day, "11:00")},
    )["id"]
    call(
        "BookAppointmentFunction",
        "POST",
        "/appointments",
        key="b-3",
        status=409,  # the key's record is let go
        body={"patient_id": patient, "doctor_id": doctor, "start": at(day, "11:00")},
    )
    twice(  # by the patient: the cutoff decides, so the settings are checked in the transaction
        "CancelAppointmentFunction",
        "POST",
        "/appointments/{appointment_id}/cancel",
        {"appointment_id": second},
        body={"reason": "ill"},
        key="c-2",
        claims=claims_of("patient", patient, sub="p"),
    )
    call("PatientAccessLogFunction", "GET", "/patients/{patient_id}/access-log", {"patient_id": patient})
    call("GetSettingsFunction", "GET", "/settings")
    call("UpdateSettingsFunction", "PATCH", "/settings", body={"hold_minutes": 6})
    call(
        "UpdateDoctorFunction",
        "PATCH",
        "/doctors/{doctor_id}",
        {"doctor_id": doctor},
        body={
            "appointment_types": [{"code": "long", "name": "Long", "duration_minutes": 30, "buffer_after_minutes": 10}]
        },
    )
    call(
        "BookAppointmentFunction",
        "POST",
        "/appointments",
        body={"patient_id": patient, "doctor_id": doctor, "start": at(day, "13:00"), "appointment_type": "long"},
    )
    call(
        "UpdateAppointmentFunction",
        "PATCH",
        "/appointments/{appointment_id}",
        {"appointment_id": booked},
        body={"status": "fulfilled"},
    )
    away = {"start": at(day, "13:00"), "end": at(day, "14:00"), "kind": "training"}  # over the 13:00 booking
    time_off = call("CreateTimeOffFunction", "POST", "/doctors/{doctor_id}/time-off", {"doctor_id": doctor}, body=away)[
        "id"
    ]
    call("ListTimeOffFunction", "GET", "/doctors/{doctor_id}/time-off", {"doctor_id": doctor}, query=window)
    call(
        "DeleteTimeOffFunction",
        "DELETE",
        "/doctors/{doctor_id}/time-off/{time_off_id}",
        {"doctor_id": doctor, "time_off_id": time_off},
    )
    series = twice(
        "BookSeriesFunction",
        "POST",
        "/appointment-series",
        key="s-1",
        body={
            "patient_id": patient,
            "doctor_id": doctor,
            "start": at(day, "16:00"),
            "repeat": {"every_weeks": 1, "count": 2},
        },
    )["id"]
    call("GetSeriesFunction", "GET", "/appointment-series/{series_id}", {"series_id": series})
    as_the_patient = claims_of("patient", patient, sub="p")
    twice(  # by the patient: the cutoff decides, so the settings are checked in the transaction
        "CancelSeriesFunction",
        "POST",
        "/appointment-series/{series_id}/cancel",
        {"series_id": series},
        body={"reason": "done"},
        key="cs-1",
        claims=as_the_patient,
    )
    call(  # refused (13:00 is booked): a series reads its occurrences' time to name the lowest that fails
        "BookSeriesFunction",
        "POST",
        "/appointment-series",
        status=409,
        body={
            "patient_id": patient,
            "doctor_id": doctor,
            "start": at(day, "13:00"),
            "repeat": {"every_weeks": 1, "count": 2},
        },
    )
    # holds and the waitlist
    placed = call(
        "PlaceHoldFunction",
        "POST",
        "/holds",
        body={"patient_id": patient, "doctor_id": doctor, "start": at(day, "09:30")},
    )["id"]
    call("GetHoldFunction", "GET", "/holds/{hold_id}", {"hold_id": placed})
    twice("ConfirmHoldFunction", "POST", "/holds/{hold_id}/confirm", {"hold_id": placed}, body={}, key="h-1")
    released = call(
        "PlaceHoldFunction",
        "POST",
        "/holds",
        body={"patient_id": patient, "doctor_id": doctor, "start": at(day, "09:45")},
    )["id"]
    call("ReleaseHoldFunction", "DELETE", "/holds/{hold_id}", {"hold_id": released})
    window = {"patient_id": patient, "doctor_id": doctor, "from": at(day, "14:00"), "to": at(day, "15:00")}
    entry = call("JoinWaitlistFunction", "POST", "/waitlist", body=window)["id"]
    call("GetWaitlistEntryFunction", "GET", "/waitlist/{entry_id}", {"entry_id": entry})
    call("PatientWaitlistFunction", "GET", "/patients/{patient_id}/waitlist", {"patient_id": patient})
    # the background functions, on the events their triggers send
    record = load_event("offer_waitlist_on_change")["Records"][0]
    record["dynamodb"]["NewImage"]["doctor_id"] = {"S": doctor}
    current["function"] = "OfferWaitlistOnChangeFunction"
    invoke.worker("OfferWaitlistOnChangeFunction", {"Records": [record]})  # offers 14:00 to the entry: a hold
    current["function"] = "OfferWaitlistFunction"
    invoke.worker("OfferWaitlistFunction", {"detail-type": "HoldReleased", "detail": {"doctor_id": doctor}})
    offered = call("GetWaitlistEntryFunction", "GET", "/waitlist/{entry_id}", {"entry_id": entry})
    call("LeaveWaitlistFunction", "DELETE", "/waitlist/{entry_id}", {"entry_id": entry})  # releases the offer
    kept = call("JoinWaitlistFunction", "POST", "/waitlist", body=window)["id"]
    current["function"] = "OfferWaitlistFunction"
    invoke.worker("OfferWaitlistFunction", {"detail-type": "HoldReleased", "detail": {"doctor_id": doctor}})
    offer = call("GetWaitlistEntryFunction", "GET", "/waitlist/{entry_id}", {"entry_id": kept})["offer"]
    call("ReleaseHoldFunction", "DELETE", "/holds/{hold_id}", {"hold_id": offer["hold_id"]})  # declined: waits again
    current["function"] = "OfferWaitlistFunction"
    invoke.worker("OfferWaitlistFunction", {"detail-type": "HoldReleased", "detail": {"doctor_id": doctor}})
    offer = call("GetWaitlistEntryFunction", "GET", "/waitlist/{entry_id}", {"entry_id": kept})["offer"]
    call("ConfirmHoldFunction", "POST", "/holds/{hold_id}/confirm", {"hold_id": offer["hold_id"]}, body={})
    second = call("JoinWaitlistFunction", "POST", "/waitlist", body=window)["id"]
    call("LeaveWaitlistFunction", "DELETE", "/waitlist/{entry_id}", {"entry_id": second})  # still waiting
    assert offered["status"] == "offered"
    late = call(
        "JoinWaitlistFunction", "POST", "/waitlist", body={**window, "from": at(day, "15:00"), "to": at(day, "16:00")}
    )["id"]
    current["function"] = "OfferWaitlistFunction"
    invoke.worker("OfferWaitlistFunction", {"detail-type": "HoldReleased", "detail": {"doctor_id": doctor}})
    expiring = {
        "id": call("GetWaitlistEntryFunction", "GET", "/waitlist/{entry_id}", {"entry_id": late})["offer"]["hold_id"]
    }
    current["function"] = "ExpireHoldFunction"
    with pytest.raises(Exception) as refused:
        invoke.worker("ExpireHoldFunction", {"hold_id": expiring["id"]})
    assert type(refused.value).__name__ == "NotDueYet"  # not due: the worker reads the hold and refuses
    current["function"] = None  # the test's own calls: no function's
    _expire_now(expiring["id"])
    current["function"] = "ExpireHoldFunction"
    invoke.worker("ExpireHoldFunction", {"hold_id": expiring["id"]})
    for function, event in (
        ("PublishEventsFunction", load_event("publish_events")),
        ("ScheduleTimersFunction", {"detail-type": "AppointmentBooked", "detail": {"appointment_id": booked}}),
        ("SendReminderFunction", {"appointment_id": booked, "start_at": "2099-01-01T00:00:00Z"}),
        ("AuditTamperAlarmFunction", load_event("audit_tamper_alarm")),
    ):
        current["function"] = function
        invoke.worker(function, event)

    # the FHIR view: each read and search, a doctor's patient read (checks the link), both appointment searches
    call("FhirMetadataFunction", "GET", "/fhir/metadata")
    call("FhirReadPatientFunction", "GET", "/fhir/Patient/{patient_id}", {"patient_id": patient})
    call(
        "FhirReadPatientFunction",
        "GET",
        "/fhir/Patient/{patient_id}",
        {"patient_id": patient},
        claims=claims_of("doctor", doctor, sub="d"),
    )
    call("FhirReadPractitionerFunction", "GET", "/fhir/Practitioner/{doctor_id}", {"doctor_id": doctor})
    call("FhirReadScheduleFunction", "GET", "/fhir/Schedule/{doctor_id}", {"doctor_id": doctor})
    call("FhirSearchScheduleFunction", "GET", "/fhir/Schedule", query={"actor": f"Practitioner/{doctor}"})
    call("FhirSearchSlotFunction", "GET", "/fhir/Slot", query={"schedule": f"Schedule/{doctor}", "start": f"eq{day}"})
    call("FhirReadAppointmentFunction", "GET", "/fhir/Appointment/{appointment_id}", {"appointment_id": booked})
    call("FhirSearchAppointmentFunction", "GET", "/fhir/Appointment", query={"patient": f"Patient/{patient}"})
    call(
        "FhirSearchAppointmentFunction",
        "GET",
        "/fhir/Appointment",
        query={"practitioner": f"Practitioner/{doctor}", "date": f"eq{day}"},
    )

    # rooms (v1.2): a doctor at North with a type that needs the exam room; each route that takes one
    check_up = {"code": "room-visit", "name": "Room visit", "duration_minutes": 30, "resource_kinds": ["exam-room"]}
    roomy = call(
        "CreateDoctorFunction",
        "POST",
        "/doctors",
        body={
            **DOCTOR,
            "family_name": "Roomy",
            "working_hours": {"mon": [{"start": "09:00", "end": "17:00", "location_id": north}]},
            "appointment_types": [check_up],
        },
    )["id"]
    typed = {**window, "appointment_type": "room-visit"}
    call("DoctorAvailabilityFunction", "GET", "/doctors/{doctor_id}/availability", {"doctor_id": roomy}, query=typed)
    call(
        "FhirSearchSlotFunction",
        "GET",
        "/fhir/Slot",
        query={"schedule": f"Schedule/{roomy}", "start": f"eq{day}", "service-type": "room-visit"},
    )
    roomer = call("RegisterPatientFunction", "POST", "/patients", body={**PATIENT, "given_name": "Roomer"})["id"]
    visit = {"patient_id": roomer, "doctor_id": roomy, "appointment_type": "room-visit"}
    in_room = call("BookAppointmentFunction", "POST", "/appointments", body={**visit, "start": at(day, "13:00")})
    call(
        "UpdateAppointmentFunction",
        "PATCH",
        "/appointments/{appointment_id}",
        {"appointment_id": in_room["id"]},
        body={"start": at(day, "13:30")},
    )
    call(
        "BookSeriesFunction",
        "POST",
        "/appointment-series",
        body={**visit, "start": at(day, "15:00"), "repeat": {"every_weeks": 1, "count": 2}},
    )
    call("PlaceHoldFunction", "POST", "/holds", body={**visit, "start": at(day, "16:00")})
    call("EarliestAvailabilityFunction", "GET", "/availability", query={**window, "location_id": north})
    drop_copies(north)  # the doctors' records are read where their membership items carry no copy
    call("EarliestAvailabilityFunction", "GET", "/availability", query={**window, "location_id": north})
    call("EarliestAvailabilityFunction", "GET", "/availability", query={**typed, "specialty": DOCTOR["specialty"]})
    call("EarliestAvailabilityFunction", "GET", "/availability", query=window)
    call("LocationDayFunction", "GET", "/locations/{location_id}/day", {"location_id": north}, query={"date": str(day)})
    call(
        "ResourceScheduleFunction", "GET", "/resources/{resource_id}/schedule", {"resource_id": resource}, query=window
    )
    waiting = call(
        "JoinWaitlistFunction",
        "POST",
        "/waitlist",
        body={**visit, "from": at(day, "10:00"), "to": at(day, "11:00")},
    )["id"]
    for worker in ("OfferWaitlistOnChangeFunction", "OfferWaitlistFunction"):
        current["function"] = worker
        if worker == "OfferWaitlistFunction":
            call("LeaveWaitlistFunction", "DELETE", "/waitlist/{entry_id}", {"entry_id": waiting})  # frees its room
            waiting = call(
                "JoinWaitlistFunction",
                "POST",
                "/waitlist",
                body={**visit, "from": at(day, "10:00"), "to": at(day, "11:00")},
            )["id"]
            current["function"] = worker
            invoke.worker(worker, {"detail-type": "HoldReleased", "detail": {"doctor_id": roomy}})
        else:
            record = load_event("offer_waitlist_on_change")["Records"][0]
            record["dynamodb"]["NewImage"]["doctor_id"] = {"S": roomy}
            invoke.worker(worker, {"Records": [record]})
    assert call("GetWaitlistEntryFunction", "GET", "/waitlist/{entry_id}", {"entry_id": waiting})["offer"]

    # the FHIR view, v1.2: sites, rooms and equipment; rooms' and devices' Schedules; an appointment's rooms
    echo = call(
        "CreateResourceFunction",
        "POST",
        "/resources",
        body={**room, "name": "Echo", "kind": "ultrasound", "category": "equipment"},
    )["id"]
    call("FhirReadLocationFunction", "GET", "/fhir/Location/{location_id}", {"location_id": north})
    call("FhirReadLocationFunction", "GET", "/fhir/Location/{location_id}", {"location_id": resource})  # a room
    call("FhirSearchLocationFunction", "GET", "/fhir/Location")
    call("FhirSearchLocationFunction", "GET", "/fhir/Location", query={"partof": f"Location/{north}"})
    call("FhirReadDeviceFunction", "GET", "/fhir/Device/{device_id}", {"device_id": echo})
    call("FhirReadScheduleFunction", "GET", "/fhir/Schedule/{doctor_id}", {"doctor_id": resource})
    call("FhirSearchScheduleFunction", "GET", "/fhir/Schedule", query={"actor": f"Device/{echo}"})
    call("FhirSearchScheduleFunction", "GET", "/fhir/Schedule", query={"actor": f"Location/{north}"})  # a site: none
    call("FhirReadAppointmentFunction", "GET", "/fhir/Appointment/{appointment_id}", {"appointment_id": in_room["id"]})
    call("FhirSearchAppointmentFunction", "GET", "/fhir/Appointment", query={"patient": f"Patient/{roomer}"})
    # the scheduling operations: $find (as GET /availability, and of one practitioner), $hold, $book (a hold, a
    # proposal, a cancellation), keyed and replayed
    operation = "/fhir/Appointment/{appointment_id}"

    def parameters(*pairs):
        return {"resourceType": "Parameters", "parameter": list(pairs)}

    span = ({"name": "start", "valueDateTime": at(day, "00:00")}, {"name": "end", "valueDateTime": at(day, "23:00")})
    at_north = {"name": "location", "valueReference": {"reference": f"Location/{north}"}}
    by_type = {"name": "visit-type", "valueCode": "room-visit"}
    find = {"appointment_id": "$find"}
    call("FhirAppointmentOperationFunction", "POST", operation, find, body=parameters(*span))
    call("FhirAppointmentOperationFunction", "POST", operation, find, body=parameters(*span, at_north, by_type))
    specialty = {"name": "specialty", "valueString": DOCTOR["specialty"]}
    call("FhirAppointmentOperationFunction", "POST", operation, find, body=parameters(*span, specialty, by_type))
    mine = {"name": "practitioner", "valueReference": {"reference": f"Practitioner/{roomy}"}}
    found = call("FhirAppointmentOperationFunction", "POST", operation, find, body=parameters(*span, mine, by_type))
    proposals = [e["resource"] for e in found["entry"]]

    def for_roomer(proposal):
        with_patient = [*proposal["participant"], {"actor": {"reference": f"Patient/{roomer}"}}]
        return parameters({"name": "appointment", "resource": {**proposal, "participant": with_patient}})

    held = twice(
        "FhirAppointmentOperationFunction",
        "POST",
        operation,
        {"appointment_id": "$hold"},
        body=for_roomer(proposals[0]),
        key="fhir-hold-1",
    )
    booked_fhir = twice(
        "FhirAppointmentOperationFunction",
        "POST",
        operation,
        {"appointment_id": "$book"},
        body=parameters({"name": "appointment", "resource": held}),
        key="fhir-book-1",
    )["entry"][0]["resource"]
    call(
        "FhirAppointmentOperationFunction",
        "POST",
        operation,
        {"appointment_id": "$book"},
        body=for_roomer(proposals[-1]),
    )
    offered = call("GetWaitlistEntryFunction", "GET", "/waitlist/{entry_id}", {"entry_id": waiting})["offer"]
    call(  # a waitlist offer is a hold too: $book confirms it, and the entry is booked
        "FhirAppointmentOperationFunction",
        "POST",
        operation,
        {"appointment_id": "$book"},
        body=parameters(
            {
                "name": "appointment",
                "resource": {"resourceType": "Appointment", "id": offered["hold_id"], "status": "pending"},
            }
        ),
    )
    cancelled = {**booked_fhir, "status": "cancelled", "cancelationReason": {"text": "cannot come"}}
    call(
        "FhirAppointmentOperationFunction",
        "POST",
        operation,
        {"appointment_id": "$book"},
        body=parameters({"name": "appointment", "resource": cancelled}),
    )

    # every route a doctor may call reads the doctor's record first (a deactivated doctor's token is refused):
    # each once as the doctor, whatever it then answers for made-up ids and no body
    as_the_doctor = claims_of("doctor", doctor, sub="d")
    for route in routes.ROUTES:
        if route.roles and route.roles & {DOCTORS, routes.AUTHENTICATED}:
            current["function"] = route.logical_id
            params = {name: str(uuid.uuid4()) for name in re.findall(r"{(\w+)}", route.path)}
            answer = invoke(route.logical_id, event_for(route.method, route.path, params or None, claims=as_the_doctor))
            assert answer["statusCode"] < 500, (route.function, answer)

    seen.pop(None, None)
    owners.pop(None, None)
    allowed = allowed_by_template()
    # Paths of Powertools' idempotency this scenario cannot take without a storage fault: it deletes
    # a key's record when the use case fails (registering a patient, creating a doctor or cancelling
    # fails after validation only on storage faults), and reads the record with GetItem only when a
    # conditional put does not hand back the existing one.
    for function in (
        "CreateDoctorFunction",
        "RegisterPatientFunction",
        "CancelAppointmentFunction",
        "BookAppointmentFunction",
        "BookSeriesFunction",
        "CancelSeriesFunction",
        "ConfirmHoldFunction",
        "CreateLocationFunction",
        "CreateResourceFunction",
        "FhirAppointmentOperationFunction",
    ):
        seen[function] |= {("DeleteItem", "IdempotencyTable", None), ("GetItem", "IdempotencyTable", None)}
    # a keyed confirm whose answer was lost reads the appointment its first attempt made (test_faults-style)
    seen["ConfirmHoldFunction"].add(("GetItem", "AppointmentsTable", None))
    assert set(seen) == set(allowed), "every function was exercised"
    for function in allowed:
        assert seen[function] <= allowed[function], (
            function,
            "uses more than granted",
            seen[function] - allowed[function],
        )
        assert allowed[function] <= seen[function], (
            function,
            "granted more than used",
            allowed[function] - seen[function],
        )
    # on the slot-locks table, only items of the owners each grant names (where it names any)
    for function, limits in owners_allowed_by_template().items():
        for action, owner in owners.get(function, ()):
            prefixes = limits[action]
            assert prefixes is None or any(owner.startswith(p) for p in prefixes), (function, action, owner, prefixes)
    narrowed = {f for f, limits in owners_allowed_by_template().items() if any(v is not None for v in limits.values())}
    assert {"JoinWaitlistFunction", "GetPatientFunction", "SearchPatientsFunction", "UpdateDoctorFunction"} <= narrowed


def _expire_now(hold_id: str) -> None:
    """As if the hold's time had come: its expiry, in the record and in its cells, moved to the past."""
    import boto3

    from clinic.config import settings

    resource = boto3.resource("dynamodb", region_name="us-east-1")
    holds = resource.Table(settings().holds_table)
    hold = holds.get_item(Key={"id": hold_id})["Item"]
    holds.update_item(
        Key={"id": hold_id},
        UpdateExpression="SET expires_epoch = :past, expires_at = :at",
        ExpressionAttributeValues={":past": 1, ":at": "2000-01-01T00:00:00Z"},
    )
    locks = resource.Table(settings().slot_locks_table)
    for owner in (f"doctor#{hold['doctor_id']}", f"patient#{hold['patient_id']}"):
        for item in locks.query(KeyConditionExpression=boto3.dynamodb.conditions.Key("owner").eq(owner))["Items"]:
            for name, value in item.items():
                if name.startswith("m") and value == hold_id:
                    locks.update_item(
                        Key={"owner": owner, "hour": item["hour"]},
                        UpdateExpression=f"SET x{name[1:]} = :past",
                        ExpressionAttributeValues={":past": 1},
                    )
