"""The local stack, started once per test run: `python -m local_stack serve --in-memory` on free
ports (DynamoDB Local in memory, no demo data), reached over real HTTP."""

from __future__ import annotations

import subprocess
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests

from local_stack import background, tokens


@dataclass
class Stack:
    url: str
    dynamodb_endpoint: str
    log_file: Path
    process: subprocess.Popen

    def token(self, role: str, record_id: str | None = None, **claims) -> str:
        return tokens.mint(role, record_id, **claims)

    def headers(self, role: str = "staff", record_id: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(role, record_id)}"}

    def log_lines(self) -> list[str]:
        return self.log_file.read_text(encoding="utf-8").splitlines()


@pytest.fixture(scope="session")
def stack(tmp_path_factory) -> Stack:
    log_file = tmp_path_factory.mktemp("local-stack") / "stack.log"
    try:
        running = background.start(log_file)
    except RuntimeError as error:
        pytest.fail(str(error))
    yield Stack(
        url=running.url, dynamodb_endpoint=running.dynamodb_endpoint, log_file=log_file, process=running.process
    )
    running.stop()


def pytest_collection_modifyitems(config, items):
    """The test that waits for pending_reminder runs last: by then its reminder is due, not slept for."""
    waiting = [item for item in items if "pending_reminder" in getattr(item, "fixturenames", ())]
    items[:] = [item for item in items if item not in waiting] + waiting


@pytest.fixture(autouse=True)
def _reminder_made_early(request):
    """pending_reminder is made by the run's first test on the shared stack, if its test is selected
    (not in a module with a stack of its own)."""
    if "stack" not in vars(request.module) and any(
        "pending_reminder" in item.fixturenames for item in request.session.items
    ):
        request.getfixturevalue("pending_reminder")


@pytest.fixture(scope="session")
def pending_reminder(stack) -> dict:
    """An appointment whose reminder falls due 70-130 s after the first integration test starts: the
    reminder's own schedule fires it at its time, checked by
    test_holds_events_waitlist.py::test_the_pending_reminder_fired_once_at_its_time. Made first, so
    the tests in between wait for it instead of the run sleeping until it is due."""
    from tests.integration.test_booking_concurrency import Api

    api = Api(stack)
    doctor, patient = api.doctor(family_name="Reminder", slot_minutes=5), api.patient(1999)
    now = datetime.now(UTC)
    start = (now + timedelta(minutes=15)).replace(second=0, microsecond=0)
    start -= timedelta(minutes=start.minute % 5)
    lead = int((start - now - timedelta(seconds=70)).total_seconds() // 60)
    assert api.patch("/settings", {"reminder_lead_minutes": lead}).status_code == 200  # decides at once
    booked = api.book(doctor, patient, start, minutes=5)
    assert booked.status_code == 201, booked.text
    # the lead back to its default only once the reminder is set (the timer reads the settings too)
    name, deadline = f"reminder-{booked.json()['id']}", time.monotonic() + 20
    while not [
        s for s in requests.get(f"{stack.url}/_local/schedules", timeout=30).json()["items"] if s["name"] == name
    ]:
        assert time.monotonic() < deadline, "the reminder was never scheduled"
        time.sleep(0.25)
    assert api.patch("/settings", {"reminder_lead_minutes": 1440}).status_code == 200
    return {
        "id": booked.json()["id"],
        "due": start - timedelta(minutes=lead),
        "start": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
