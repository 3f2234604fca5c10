"""Demo data for a fresh local store: three doctors and four patients, created through the API
itself (so they pass the same validation as anything a user posts). Their ids are kept in
.local/demo-ids.json so the banner can show them after a restart.

The ids are the same on every fresh store: the API derives a new record's id from its
Idempotency-Key, and the seed's keys are fixed. The events/ files name the first doctor and patient
(FIRST_DOCTOR_ID, FIRST_PATIENT_ID), so `make invoke FUNCTION=GetPatientFunction
EVENT=events/get_patient.json` finds Ada Lovelace on a freshly seeded stack."""

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

DOCTORS = [
    {
        "given_name": "Grace",
        "family_name": "Hopper",
        "specialty": "Family medicine",
        "time_zone": "America/New_York",
        "slot_minutes": 15,
        "working_hours": {
            d: [{"start": "09:00", "end": "12:00"}, {"start": "13:00", "end": "17:00"}] for d in WEEKDAYS
        },
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
    ids: dict[str, list[str]] = {"doctors": [], "patients": []}
    for kind, bodies in (("doctors", DOCTORS), ("patients", PATIENTS)):
        for index, body in enumerate(bodies):
            ids[kind].append(_create(base_url, kind, index, body, headers))
    if (ids["doctors"][0], ids["patients"][0]) != (FIRST_DOCTOR_ID, FIRST_PATIENT_ID):
        print(
            "warning: the demo data got other ids than local_stack/seed.py documents; the events/ files will not "
            f"find them (doctor {ids['doctors'][0]}, patient {ids['patients'][0]})",
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
