"""The README's curl examples, run as a new user would run them: its bash blocks ("Try it", the
booking walk-through, "Roles and tokens", FHIR) and its `make invoke` example, as written, against a
local stack seeded with the demo data like `make run`'s. Only the address (localhost:3000 → the test
stack's free port) and the demo-ids file are swapped; every curl's status is recorded and checked, and
its body kept (curl.log.<n>, the n-th call's)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import requests

from local_stack import ROOT, background, seed, tokens

pytestmark = pytest.mark.integration

README = ROOT / "README.md"
# Records each curl's status line and a copy of its output, without changing what curl prints (the
# blocks parse it). The n-th call's output goes to $CURL_LOG.<n> (calls run one after another).
CURL_RECORDER = r"""
curl() {
  local head n; head=$(mktemp); n=$(( $(wc -l < "$CURL_LOG") ))
  command curl -D "$head" "$@" | tee "$CURL_LOG.$n"; local rc=${PIPESTATUS[0]}
  printf '%s %s\n' "$(head -1 "$head" | cut -d' ' -f2)" "${*: -1}" >> "$CURL_LOG"
  rm -f "$head"; return $rc
}
"""


def bash_block_after(heading: str) -> str:
    """The first ```bash block after a README heading."""
    text = README.read_text(encoding="utf-8")
    start = text.index(f"\n{heading}\n")
    match = re.search(r"```bash\n(.*?)```", text[start:], re.S)
    assert match, f"no bash block after {heading}"
    return match.group(1)


@pytest.fixture(scope="module")
def demo_stack(tmp_path_factory):
    folder = tmp_path_factory.mktemp("readme")
    ids_file = folder / "demo-ids.json"
    try:
        running = background.start(
            folder / "stack.log", env={"SEED": "1", "LOCAL_DEMO_IDS_FILE": str(ids_file), "LOCAL_WARM": "0"}
        )
    except RuntimeError as error:
        pytest.fail(str(error))
    yield running, ids_file
    running.stop()


def run_blocks(
    stack,
    ids_file: Path,
    blocks: list[str],
    tmp_path: Path,
    trailer: str = 'printf "\\nVARS %s %s %s %s %s %s\\n" "$DOC" "$PAT" "$START" "$APPT" "$NEW" "$FROM"\n',
) -> tuple[list[tuple[int, str]], str]:
    host_port = stack.url.removeprefix("http://")
    script = "\n".join(blocks)
    script = "\n".join(line for line in script.splitlines() if not line.startswith("make run"))
    script = script.replace("localhost:3000", host_port).replace("127.0.0.1:3000", host_port)
    script = script.replace(".local/demo-ids.json", str(ids_file))
    log = tmp_path / "curl.log"
    log.write_text("")
    done = subprocess.run(
        ["bash", "-c", "set -euo pipefail\n" + CURL_RECORDER + script + "\n" + trailer],
        cwd=ROOT,
        env={**os.environ, "CURL_LOG": str(log)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    statuses = []
    for line in log.read_text().splitlines():
        code, url = line.split(" ", 1)
        statuses.append((int(code), url.replace(host_port, "localhost:3000")))
    return statuses, done.stdout


@pytest.mark.skipif(shutil.which("curl") is None or shutil.which("make") is None, reason="needs curl and make")
def test_the_readme_walk_through_works_as_written(demo_stack, tmp_path):
    stack, ids_file = demo_stack
    blocks = [
        bash_block_after("### Try it"),
        bash_block_after("### Booking walk-through"),
        bash_block_after("## Roles and tokens"),
    ]
    statuses, output = run_blocks(stack, ids_file, blocks, tmp_path)

    assert [code for code, _ in statuses] == [
        200,
        200,
        201,
        200,  # Try it: health, doctors, register, search
        200,
        200,
        200,
        200,  # walk-through: find a doctor and a patient, availability (twice)
        201,
        200,
        409,  # book, see it on the schedule, the same time again
        200,
        200,  # a later day's first free slot, reschedule to it
        200,
        200,  # cancel, availability again
        401,
        200,
        403,
        200,  # no token, the patient's own record, the patient list, the access log
    ], statuses

    doc, _, start, appointment, new, start_of_window = output.rsplit("VARS ", 1)[1].split()
    staff = {"Authorization": f"Bearer {tokens.mint('staff')}"}
    # the appointment moved, then was cancelled …
    stored = requests.get(f"{stack.url}/appointments/{appointment}", headers=staff, timeout=30).json()
    assert (stored["status"], stored["start"], stored["doctor_id"]) == ("cancelled", new, doc)
    # … and both its times are free again
    window = requests.get(
        f"{stack.url}/doctors/{doc}/availability",
        headers=staff,
        timeout=30,
        params={"from": start_of_window, "to": stored["end"]},
    ).json()
    free = {slot["start"] for slot in window["slots"]}
    assert {start, new} <= free
    assert json.loads(ids_file.read_text())["patients"]


@pytest.mark.skipif(shutil.which("curl") is None or shutil.which("make") is None, reason="needs curl and make")
def test_the_calendar_holds_and_waitlist_walk_through_works_as_written(demo_stack, tmp_path):
    stack, ids_file = demo_stack
    blocks = [
        bash_block_after("### Try it"),
        bash_block_after("### Booking walk-through"),
        bash_block_after("### Calendar, holds and waitlist walk-through"),
    ]
    trailer = 'printf "\\nVARS %s %s %s %s %s\\n" "$SLOT" "$ENTRY" "$SERIES" "$BOOKED" "$OFF"\n'
    statuses, output = run_blocks(stack, ids_file, blocks, tmp_path, trailer)

    assert [code for code, _ in statuses][15:] == [
        200,
        200,  # the settings, read and changed
        200,
        200,  # an appointment type on the doctor, its availability
        201,
        201,  # hold, confirm
        200,
        201,  # another patient, on the waitlist
        200,
        200,  # cancel, read the entry
        201,
        204,  # time off, deleted
        200,
        201,
        200,  # a later week's slot, a series, cancelled
        200,  # the events
    ], statuses

    slot, entry, series, booked, time_off = output.rsplit("VARS ", 1)[1].split()
    staff = {"Authorization": f"Bearer {tokens.mint('staff')}"}
    get = lambda path: requests.get(f"{stack.url}{path}", headers=staff, timeout=30).json()
    # the waiting patient was offered exactly the cancelled time (within the contract's 60 seconds)
    deadline = time.monotonic() + 60
    while (offered := get(f"/waitlist/{entry}"))["status"] != "offered" and time.monotonic() < deadline:
        time.sleep(0.5)
    assert offered["status"] == "offered" and offered["offer"]["start"] == slot, offered
    assert get(f"/appointments/{booked}")["status"] == "cancelled"
    month_later = (datetime.fromisoformat(slot.replace("Z", "+00:00")) + timedelta(days=30)).strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )
    away = get(f"/doctors/{offered['doctor_id']}/time-off?from={slot}&to={month_later}")["items"]
    assert time_off not in {t["id"] for t in away}  # deleted
    occurrences = get(f"/appointment-series/{series}")["appointments"]
    assert len(occurrences) == 3 and {a["status"] for a in occurrences} == {"cancelled"}
    assert {a["appointment_type"] for a in occurrences} == {"check-up"}


@pytest.mark.skipif(shutil.which("curl") is None or shutil.which("make") is None, reason="needs curl and make")
def test_the_locations_and_rooms_walk_through_works_as_written(demo_stack, tmp_path):
    stack, ids_file = demo_stack
    blocks = [bash_block_after("### Try it"), bash_block_after("### Locations, rooms and the earliest slot")]
    trailer = 'printf "\\nVARS %s %s %s\\n" "$SITE" "$ECHO" "$(echo "$SCAN" | field \'["id"]\')"\n'
    statuses, output = run_blocks(stack, ids_file, blocks, tmp_path, trailer)
    assert [code for code, _ in statuses][4:] == [
        200,
        200,
        200,  # the sites, Downtown's resources, its doctors
        200,  # the earliest scans
        200,
        201,  # a patient, the scan booked
        200,
        200,
        200,  # the day sheet, the ultrasound found, its schedule
    ], statuses
    site, echo, scan = output.rsplit("VARS ", 1)[1].split()
    assert site == seed.FIRST_LOCATION_ID
    staff = {"Authorization": f"Bearer {tokens.mint('staff')}"}
    booked = requests.get(f"{stack.url}/appointments/{scan}", headers=staff, timeout=30).json()
    assert booked["location_id"] == site and {r["kind"] for r in booked["resources"]} == {"exam-room", "ultrasound"}
    assert echo in {r["id"] for r in booked["resources"]}
    schedule = json.loads((tmp_path / f"curl.log.{len(statuses) - 1}").read_text())
    assert [a["id"] for a in schedule["items"]] == [scan]


@pytest.mark.skipif(shutil.which("curl") is None or shutil.which("make") is None, reason="needs curl and make")
def test_the_readme_fhir_examples_work_as_written(stack, tmp_path):
    """The FHIR block, as written, on the session's stack, its demo ids file holding a doctor and a patient
    made here (the same shape as the seed's): no second stack, and no wait for seeding."""
    from tests.handlers.test_appointments import DOCTOR, PATIENT

    made = {}
    for kind, body in (("doctors", DOCTOR), ("patients", PATIENT)):
        response = requests.post(f"{stack.url}/{kind}", json=body, headers=stack.headers("staff"), timeout=30)
        assert response.status_code == 201, response.text
        made[kind] = [response.json()["id"]]
    ids_file = tmp_path / "demo-ids.json"
    ids_file.write_text(json.dumps(made), encoding="utf-8")
    # the FHIR block sets DOC, PAT and FROM itself; the walk-through's other variables are printed empty
    statuses, _ = run_blocks(stack, ids_file, ['START=""; APPT=""; NEW=""', bash_block_after("## FHIR")], tmp_path)
    assert [code for code, _ in statuses] == [
        200,
        200,
        200,  # metadata (no token), a Practitioner, free Slots
        200,
        201,  # the first free Slot, booked through the API
        200,
        200,  # a Patient, the patient's Appointments
        403,
        400,  # a patient searching a doctor's appointments; an unknown parameter under handling=strict
    ], statuses
    slot = json.loads((tmp_path / "curl.log.3").read_text())["entry"][0]["resource"]
    found = json.loads((tmp_path / "curl.log.6").read_text())
    assert (found["resourceType"], found["type"]) == ("Bundle", "searchset")
    appointments = [e["resource"] for e in found.get("entry", []) if e["resource"]["resourceType"] == "Appointment"]
    assert len(appointments) == 1, found  # the search shows the booking, not an empty Bundle
    assert appointments[0]["start"] == slot["start"]
    assert f"Patient/{made['patients'][0]}" in {p["actor"]["reference"] for p in appointments[0]["participant"]}


@pytest.mark.skipif(shutil.which("curl") is None or shutil.which("make") is None, reason="needs curl and make")
def test_the_readme_fhir_booking_block_works_as_written(stack, tmp_path):
    """ "Booking over FHIR", as written, on the session's stack (a doctor and a patient made here, in a demo ids
    file): $find, $hold, $book of the pending Appointment, the same proposal again (409 conflict), the cancel."""
    from tests.handlers.test_appointments import DOCTOR, PATIENT

    made = {}
    for kind, body in (("doctors", DOCTOR), ("patients", {**PATIENT, "given_name": "Readme"})):
        response = requests.post(f"{stack.url}/{kind}", json=body, headers=stack.headers("staff"), timeout=30)
        assert response.status_code == 201, response.text
        made[kind] = [response.json()["id"]]
    ids_file = tmp_path / "demo-ids.json"
    ids_file.write_text(json.dumps(made), encoding="utf-8")
    booked_id = 'import json,sys; print(json.load(sys.stdin)["entry"][0]["resource"]["id"])'
    trailer = f'printf "\\nVARS %s\\n" "$(echo "$BOOKED" | python3 -c \'{booked_id}\')"\n'
    statuses, output = run_blocks(
        stack, ids_file, [bash_block_after("### Booking over FHIR: `$find`, `$hold`, `$book`")], tmp_path, trailer
    )
    assert [code for code, _ in statuses] == [200, 200, 200, 409, 200], statuses  # find, hold, book, again, cancel
    conflict = json.loads((tmp_path / "curl.log.3").read_text())
    assert conflict["issue"][0]["code"] == "conflict"
    assert conflict["issue"][0]["details"]["coding"][0]["code"] == "SLOT_UNAVAILABLE"
    booked = output.rsplit("VARS ", 1)[1].split()[0]
    stored = requests.get(f"{stack.url}/appointments/{booked}", headers=stack.headers("staff"), timeout=30).json()
    assert (stored["status"], stored["patient_id"], stored["doctor_id"]) == (
        "cancelled",
        made["patients"][0],
        made["doctors"][0],
    )


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_the_readme_invoke_example_finds_the_demo_patient(demo_stack):
    """`make invoke FUNCTION=GetPatientFunction EVENT=events/get_patient.json`, as the README shows it, on a
    freshly seeded stack (its store named by DYNAMODB_ENDPOINT, as the test stack is not this clone's
    `make run`): Ada Lovelace, the demo data's first patient, not a 404."""
    stack, _ = demo_stack
    command = re.search(
        r"`(make invoke FUNCTION=GetPatientFunction EVENT=events/get_patient\.json)`", README.read_text()
    )
    assert command, "the README no longer shows the invoke example"
    done = subprocess.run(
        ["bash", "-c", command.group(1)],
        cwd=ROOT,
        # as typed in a shell: not as a sub-make of `make test` (which would print "Leaving directory")
        env={
            **{k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")},
            "DYNAMODB_ENDPOINT": stack.dynamodb_endpoint,
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    response, _ = json.JSONDecoder().raw_decode(done.stdout[done.stdout.index("{") :])  # after make's echo
    assert response["statusCode"] == 200, response
    patient = json.loads(response["body"])
    assert (patient["id"], patient["given_name"], patient["family_name"]) == (seed.FIRST_PATIENT_ID, "Ada", "Lovelace")
