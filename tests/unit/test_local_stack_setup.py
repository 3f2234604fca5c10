"""The local stack's set-up on its own (no store, no network): the data folder's lock, the record of where a
running stack is, `make run IN_MEMORY=1`, and the events/ files naming the demo data."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from local_stack import ROOT, dynamodb, seed, state


def test_one_stack_at_a_time_holds_a_data_folder_and_the_refusal_names_the_holder(tmp_path):
    first = dynamodb.DataLock(tmp_path / "dynamodb-data").acquire()
    with pytest.raises(dynamodb.StoreBusy, match=rf"in use by another local stack \(pid {os.getpid()}\)"):
        dynamodb.DataLock(tmp_path / "dynamodb-data").acquire()
    dynamodb.DataLock(tmp_path / "other-data").acquire().release()  # another folder is another store
    first.release()
    dynamodb.DataLock(tmp_path / "dynamodb-data").acquire().release()


def test_the_lock_dies_with_its_holder(tmp_path):
    """A stack killed outright (no clean-up) leaves no stale lock: the system releases it."""
    acquire_and_die = "import os, sys; from local_stack.dynamodb import DataLock, Path; "
    acquire_and_die += "DataLock(Path(sys.argv[1])).acquire(); os._exit(9)"
    holder = subprocess.run([sys.executable, "-c", acquire_and_die, str(tmp_path / "data")], cwd=ROOT, check=False)
    assert holder.returncode == 9
    dynamodb.DataLock(tmp_path / "data").acquire().release()


def test_a_stack_names_itself_unless_another_live_one_already_has(tmp_path):
    path = tmp_path / "stack.json"
    assert state.read(path) is None
    assert state.write(path, "http://127.0.0.1:3100", "http://127.0.0.1:41000")
    assert state.read(path) == {
        "pid": os.getpid(),
        "url": "http://127.0.0.1:3100",
        "dynamodb": "http://127.0.0.1:41000",
    }
    other = {"pid": os.getppid(), "url": "http://127.0.0.1:3000", "dynamodb": "http://127.0.0.1:40000"}
    path.write_text(json.dumps(other))
    assert not state.write(path, "http://127.0.0.1:3100", "http://127.0.0.1:41000")
    state.clear(path)  # not ours: left alone
    assert state.read(path) == other
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    path.write_text(json.dumps({**other, "pid": int(gone.stdout)}))
    assert state.read(path) is None  # its process is gone: as if none were written
    assert state.write(path, "http://127.0.0.1:3100", "http://127.0.0.1:41000")
    state.clear(path)
    assert not path.exists()


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
@pytest.mark.parametrize(("variables", "in_memory"), [((), False), (("IN_MEMORY=1",), True), (("IN_MEMORY=0",), False)])
def test_make_run_passes_in_memory(variables, in_memory):
    # --no-print-directory: under `make test` this make is a sub-make, which would print "Leaving directory" last
    dry_run = subprocess.run(
        ["make", "--no-print-directory", "-n", "run", *variables], cwd=ROOT, capture_output=True, text=True, check=True
    )
    command = dry_run.stdout.strip().splitlines()[-1]
    assert command.split()[-2:] == (["serve", "--in-memory"] if in_memory else ["local_stack", "serve"])


def test_the_events_name_the_demo_datas_first_doctor_and_patient():
    """So `make invoke FUNCTION=GetPatientFunction EVENT=events/get_patient.json` finds them on a seeded stack."""
    event = lambda name: json.loads((ROOT / "events" / f"{name}.json").read_text(encoding="utf-8"))
    assert event("get_patient")["pathParameters"]["patient_id"] == seed.FIRST_PATIENT_ID
    assert event("get_doctor")["pathParameters"]["doctor_id"] == seed.FIRST_DOCTOR_ID
    assert (seed.DOCTORS[0]["family_name"], seed.PATIENTS[0]["family_name"]) == ("Hopper", "Lovelace")
    assert event("get_location")["pathParameters"]["location_id"] == seed.FIRST_LOCATION_ID
    assert event("location_day")["pathParameters"]["location_id"] == seed.FIRST_LOCATION_ID
    assert event("get_resource")["pathParameters"]["resource_id"] == seed.FIRST_RESOURCE_ID
    assert seed.RESOURCES[0]["location_id"] == seed.FIRST_LOCATION_ID


def test_the_documented_demo_ids_are_the_ones_the_seeds_keys_derive():
    """The API derives a keyed create's id from its scope and key (clinic.services.new_id): the seed's
    constants must be those ids, or the events/ files name records no demo store has."""
    from clinic.services import keyed, new_id

    def derived(path: str, kind: str, index: int) -> str:
        with keyed(f"POST {path}#demo-seed#demo-seed-{kind}-{index}"):
            return new_id()

    assert derived("/doctors", "doctors", 0) == seed.FIRST_DOCTOR_ID
    assert derived("/patients", "patients", 0) == seed.FIRST_PATIENT_ID
    assert derived("/locations", "locations", 0) == seed.FIRST_LOCATION_ID
    assert derived("/locations", "locations", 1) == seed.SECOND_LOCATION_ID
    assert derived("/resources", "resources", 0) == seed.FIRST_RESOURCE_ID
