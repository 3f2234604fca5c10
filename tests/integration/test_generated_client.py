"""A client generated from `/openapi.json` works as it is, tried as a new user would: openapi-python-client
(pinned, in its own tool environment .venv-tools/openapi-client, which `make test` creates) generates a
package from the document the running stack serves, with no warning, and a script using only that package
books an appointment (and is refused the same slot twice, a parsed Problem), reschedules and cancels it.
The script runs on the tool environment's python, which has what the generated code imports (httpx,
attrs) and nothing of ours."""

from __future__ import annotations

import subprocess
import textwrap

import pytest
import requests

from local_stack import ROOT
from tests import days

TOOL = ROOT / ".venv-tools" / "openapi-client" / "bin"
CONFIG = "post_hooks: []\npackage_name_override: clinic_client\n"  # no ruff run over the output: seconds saved

SCRIPT = textwrap.dedent("""
    import datetime as dt
    import sys
    import uuid

    from clinic_client import AuthenticatedClient
    from clinic_client.api.appointments import book_appointment, cancel_appointment, update_appointment
    from clinic_client.api.doctors import create_doctor, doctor_availability
    from clinic_client.api.patients import register_patient
    from clinic_client.models import (
        AppointmentCreate, AppointmentOut, AppointmentOutStatus, AppointmentUpdate, Availability, CancelRequest,
        DoctorCreate, DoctorCreateWorkingHours, DoctorOut, Interval, PatientCreate, PatientCreateSex, PatientOut,
        Problem,
    )

    url, token, first = sys.argv[1], sys.argv[2], dt.datetime.fromisoformat(sys.argv[3])  # tests/days.py
    with AuthenticatedClient(base_url=url, token=token, raise_on_unexpected_status=True) as client:
        hours = DoctorCreateWorkingHours()
        for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun"):
            hours[day] = [Interval(start="00:00", end="24:00")]
        answer = create_doctor.sync_detailed(client=client, body=DoctorCreate(
            given_name="Gen", family_name="Client", specialty="generated clients", time_zone="UTC",
            working_hours=hours))
        assert answer.status_code == 201 and isinstance(answer.parsed, DoctorOut), answer
        doctor = answer.parsed

        answer = register_patient.sync_detailed(client=client, body=PatientCreate(
            given_name="Gen", family_name="Patient", birth_date=dt.date(1990, 1, 1), sex=PatientCreateSex.FEMALE))
        assert answer.status_code == 201 and isinstance(answer.parsed, PatientOut), answer
        patient = answer.parsed
        assert patient.birth_date == dt.date(1990, 1, 1) and patient.sex == "female"

        def free_slots():
            answer = doctor_availability.sync_detailed(doctor.id, client=client, from_=first,
                                                       to=first + dt.timedelta(days=1))
            assert answer.status_code == 200 and isinstance(answer.parsed, Availability), answer
            return [slot.start for slot in answer.parsed.slots]
        slots = free_slots()
        assert slots and slots[0] == first, slots[:3]

        answer = book_appointment.sync_detailed(client=client, body=AppointmentCreate(
            patient_id=patient.id, doctor_id=doctor.id, start=slots[0], reason="generated client"))
        assert answer.status_code == 201 and isinstance(answer.parsed, AppointmentOut), answer
        booked = answer.parsed
        assert (booked.patient_id, booked.doctor_id, booked.start) == (patient.id, doctor.id, slots[0])
        assert booked.end == slots[0] + dt.timedelta(minutes=booked.duration_minutes) and booked.duration_minutes == 15
        assert booked.status == AppointmentOutStatus.BOOKED and booked.reason == "generated client"
        assert answer.headers["Location"].endswith(str(booked.id))
        again = book_appointment.sync_detailed(client=client, body=AppointmentCreate(
            patient_id=patient.id, doctor_id=doctor.id, start=slots[0]))
        assert again.status_code == 409 and isinstance(again.parsed, Problem), again
        assert (again.parsed.status, again.parsed.code) == (409, "SLOT_UNAVAILABLE")

        slots = free_slots()
        assert booked.start not in slots
        answer = update_appointment.sync_detailed(booked.id, client=client, body=AppointmentUpdate(start=slots[3]))
        assert answer.status_code == 200 and isinstance(answer.parsed, AppointmentOut), answer
        moved = answer.parsed
        assert (moved.id, moved.start, moved.status) == (booked.id, slots[3], AppointmentOutStatus.BOOKED)
        assert moved.updated_at >= booked.updated_at

        key = str(uuid.uuid4())
        for replay in (False, True):
            answer = cancel_appointment.sync_detailed(booked.id, client=client, idempotency_key=key,
                                                      body=CancelRequest(reason="patient asked"))
            assert answer.status_code == 200 and isinstance(answer.parsed, AppointmentOut), answer
            cancelled = answer.parsed
            assert (cancelled.id, cancelled.start) == (booked.id, slots[3])
            assert cancelled.status == AppointmentOutStatus.CANCELLED
            assert cancelled.cancellation_reason == "patient asked"
            assert (answer.headers.get("Idempotent-Replayed") == "true") == replay, answer.headers
        assert booked.start in free_slots() and moved.start in free_slots()
    print("ok")
""")


def tool(name: str) -> str:
    path = TOOL / name
    if not path.exists():
        pytest.fail(f"{path.relative_to(ROOT)} is missing: `make test` installs it (tools-openapi-client.txt)")
    return str(path)


def test_a_client_generated_from_the_served_document_books_reschedules_and_cancels(stack, tmp_path):
    served = requests.get(stack.url + "/openapi.json", timeout=60)
    assert served.status_code == 200
    (tmp_path / "openapi.json").write_bytes(served.content)
    (tmp_path / "config.yaml").write_text(CONFIG, encoding="utf-8")

    generated = subprocess.run(
        [
            tool("openapi-python-client"),
            "generate",
            "--path",
            "openapi.json",
            "--meta",
            "none",
            "--config",
            "config.yaml",
            "--output-path",
            "clinic_client",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = generated.stdout + generated.stderr
    assert generated.returncode == 0, output
    assert "warning" not in output.lower() and "error" not in output.lower(), output
    assert (tmp_path / "clinic_client" / "api" / "appointments" / "book_appointment.py").is_file()

    (tmp_path / "use_it.py").write_text(SCRIPT, encoding="utf-8")
    used = subprocess.run(
        [tool("python"), "use_it.py", stack.url, stack.token("staff"), days.midnight().isoformat()],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert used.returncode == 0 and used.stdout.strip() == "ok", used.stdout + used.stderr
