"""Demo data for a fresh local store: two locations in New York (Downtown with two exam rooms and an
ultrasound, Riverside with one exam room), four doctors — two of them working at both locations, with
appointment types that need a room or the ultrasound — and four patients, created through the API
itself (so they pass the same validation as anything a user posts). Their ids are kept in
.local/demo-ids.json so the banner can show them after a restart.

The ids are the same on every fresh store: the API derives a new record's id from its
Idempotency-Key, and the seed's keys are fixed. The events/ files name the first doctor, patient,
location and resource (FIRST_DOCTOR_ID, FIRST_PATIENT_ID, FIRST_LOCATION_ID, FIRST_RESOURCE_ID), so
`make invoke FUNCTION=GetPatientFunction EVENT=events/get_patient.json` finds Ada Lovelace on a
freshly seeded stack."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import requests

from local_stack import ROOT, tokens

# (LOCAL_DEMO_IDS_FILE moves it, so the README test's stack leaves a developer's file alone.)
IDS_FILE = Path(os.environ.get("LOCAL_DEMO_IDS_FILE") or ROOT / ".local" / "demo-ids.json")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")
FIRST_DOCTOR_ID = "2c640a55-b12b-41f3-9339-660ecc2403d9"  # Grace Hopper
FIRST_PATIENT_ID = "cec4ef2c-d055-4d2a-91b3-5c2d09dbc7b1"  # Ada Lovelace
FIRST_LOCATION_ID = "ce3aae1c-e485-4eb0-a9ce-4e3d0416dce2"  # Downtown Clinic
SECOND_LOCATION_ID = "0b116bc0-d25c-4172-b444-619809d0dcda"  # Riverside Clinic
FIRST_RESOURCE_ID = "23b07f0f-a8ab-4d40-ae05-27713ce04f33"  # Downtown's Exam room 1

LOCATIONS = [
    {
        "name": "Downtown Clinic",
        "time_zone": "America/New_York",
        "address": {"line": "1 Main Street", "city": "New York", "postal_code": "10001", "country": "US"},
        "phone": "+12125550100",
    },
    {
        "name": "Riverside Clinic",
        "time_zone": "America/New_York",
        "address": {"line": "200 River Road", "city": "New York", "postal_code": "10027", "country": "US"},
    },
]

RESOURCES = [
    {"location_id": FIRST_LOCATION_ID, "name": "Exam room 1", "kind": "exam-room", "category": "room"},
    {"location_id": FIRST_LOCATION_ID, "name": "Exam room 2", "kind": "exam-room", "category": "room"},
    {"location_id": FIRST_LOCATION_ID, "name": "Ultrasound", "kind": "ultrasound", "category": "equipment"},
    {"location_id": SECOND_LOCATION_ID, "name": "Exam room A", "kind": "exam-room", "category": "room"},
]

# visits that need an exam room, and scans that need the ultrasound (kept 10 minutes after, to clean it)
SITED_TYPES = [
    {"code": "check-up", "name": "Check-up", "duration_minutes": 30, "resource_kinds": ["exam-room"]},
    {
        "code": "ultrasound-scan",
        "name": "Ultrasound scan",
        "duration_minutes": 30,
        "buffer_after_minutes": 10,
        "resource_kinds": ["exam-room", "ultrasound"],
    },
]

DOCTORS = [
    {
        "given_name": "Grace",
        "family_name": "Hopper",
        "specialty": "Family medicine",
        "time_zone": "America/New_York",
        "slot_minutes": 15,
        "working_hours": {  # mornings Downtown, afternoons at Riverside
            d: [
                {"start": "09:00", "end": "12:00", "location_id": FIRST_LOCATION_ID},
                {"start": "13:00", "end": "17:00", "location_id": SECOND_LOCATION_ID},
            ]
            for d in WEEKDAYS
        },
        "appointment_types": SITED_TYPES,
    },
    {
        "given_name": "Alan",
        "family_name": "Turing",
        "specialty": "Cardiology",
        "time_zone": "Europe/London",
        "slot_minutes": 30,
        "working_hours": {d: [{"start": "08:00", "end": "16:00"}] for d in ("mon", "wed", "fri")},
    },
    {
        "given_name": "Srinivasa",
        "family_name": "Ramanujan",
        "specialty": "Pediatrics",
        "time_zone": "Asia/Kolkata",
        "slot_minutes": 20,
        "working_hours": {d: [{"start": "10:00", "end": "18:00"}] for d in (*WEEKDAYS, "sat")},
    },
    {
        "given_name": "Virginia",
        "family_name": "Apgar",
        "specialty": "Family medicine",
        "time_zone": "America/New_York",
        "slot_minutes": 15,
        "working_hours": {  # mornings at Riverside, afternoons Downtown
            d: [
                {"start": "08:00", "end": "12:00", "location_id": SECOND_LOCATION_ID},
                {"start": "13:00", "end": "18:00", "location_id": FIRST_LOCATION_ID},
            ]
            for d in WEEKDAYS
        },
        "appointment_types": SITED_TYPES,
    },
]

PATIENTS = [
    {"given_name": "Ada", "family_name": "Lovelace", "birth_date": "1985-12-10", "sex": "female"},
    {"given_name": "Charles", "family_name": "Babbage", "birth_date": "1961-12-26", "sex": "male"},
    {
        "given_name": "Katherine",
        "family_name": "Johnson",
        "birth_date": "1998-08-26",
        "sex": "female",
        "conditions": ["asthma"],
    },
    {"given_name": "Edsger", "family_name": "Dijkstra", "birth_date": "2019-05-11", "sex": "male"},
]


ATTEMPTS = 8  # a busy machine (DynamoDB Local starting, tests in parallel) answers 503 + Retry-After for a while


def _create(base_url: str, kind: str, index: int, body: dict[str, Any], headers: dict[str, str]) -> str:
    """POST one demo record, retrying what the service says to retry. Each record has its own
    Idempotency-Key, so a retry after a write that committed (its answer lost) never makes a twin."""
    keyed = {**headers, "Idempotency-Key": f"demo-seed-{kind}-{index}"}
    for attempt in range(1, ATTEMPTS + 1):
        try:
            response = requests.post(f"{base_url}/{kind}", json=body, headers=keyed, timeout=60)
        except requests.ConnectionError:
            if attempt == ATTEMPTS:
                raise
            time.sleep(attempt)
            continue
        if response.status_code in (429, 503) and attempt < ATTEMPTS:
            time.sleep(float(response.headers.get("Retry-After", "1")) * attempt)
            continue
        response.raise_for_status()
        return str(response.json()["id"])
    raise AssertionError("unreachable")


def seed(base_url: str) -> dict[str, list[str]]:
    headers = {"Authorization": f"Bearer {tokens.mint('staff', sub='demo-seed')}"}
    ids: dict[str, list[str]] = {"locations": [], "resources": [], "doctors": [], "patients": []}
    # locations first: the resources and the doctors' hours name them
    for kind, bodies in (
        ("locations", LOCATIONS),
        ("resources", RESOURCES),
        ("doctors", DOCTORS),
        ("patients", PATIENTS),
    ):
        for index, body in enumerate(bodies):
            ids[kind].append(_create(base_url, kind, index, body, headers))
    documented = (FIRST_DOCTOR_ID, FIRST_PATIENT_ID, FIRST_LOCATION_ID, SECOND_LOCATION_ID, FIRST_RESOURCE_ID)
    got = (ids["doctors"][0], ids["patients"][0], *ids["locations"][:2], ids["resources"][0])
    if got != documented:
        print(
            "warning: the demo data got other ids than local_stack/seed.py documents; the events/ files will not "
            f"find them ({', '.join(got)})",
            file=sys.stderr,
        )
    IDS_FILE.parent.mkdir(parents=True, exist_ok=True)
    IDS_FILE.write_text(json.dumps(ids, indent=2) + "\n", encoding="utf-8")
    return ids


def saved_ids(path: Path = IDS_FILE) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
