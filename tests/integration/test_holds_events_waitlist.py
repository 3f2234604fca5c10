"""Holds, domain events, reminders and the waitlist, end to end over real HTTP on the local stack:
DynamoDB Local's streams feed the template's consumers, events go over the local bus by the
template's rules, one-time schedules fire on the local scheduler — no AWS.

Where a test needs time to pass (a hold's five minutes, a waitlist offer's sixty), it moves the
stored expiry (and the expiry's schedule) into the next seconds instead of waiting: the mechanism
under test — conditions comparing each cell's expiry with the request's time — is the same.

A reminder is the one thing waited for in real time: it is booked by the first test (with a lead
that makes it due a minute later) and checked by the last one, so the tests in between run while
it is pending.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import boto3
import pytest
import requests
from boto3.dynamodb.conditions import Key

from local_stack import background
from tests.integration.conftest import Stack
from tests.integration.test_booking_concurrency import Api, day_after, utc_iso


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def fire(calls, workers=50):
    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(lambda call: call(), calls))


def until(check, seconds=20.0, every=0.25):
    deadline = time.monotonic() + seconds
    while True:
        found = check()
        if found or time.monotonic() > deadline:
            return found
        time.sleep(every)


class Local:
    """The local stack's own views and the store behind it."""

    def __init__(self, stack):
        self.stack = stack
        self.dynamodb = boto3.resource(
            "dynamodb",
            endpoint_url=stack.dynamodb_endpoint,
            region_name="us-east-1",
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )  # nosec B106
        self.scheduler = boto3.client(
            "scheduler",
            endpoint_url=f"{stack.url}/_aws/scheduler",
            region_name="us-east-1",
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )  # nosec B106

    def events(self, detail_type: str | None = None) -> list[dict]:
        params = {"detail_type": detail_type} if detail_type else None
        return requests.get(f"{self.stack.url}/_local/events", params=params, timeout=30).json()["items"]

    def schedules(self) -> list[dict]:
        return requests.get(f"{self.stack.url}/_local/schedules", timeout=30).json()["items"]

    def table(self, suffix: str):
        return self.dynamodb.Table(next(t.name for t in self.dynamodb.tables.all() if t.name.endswith(suffix)))

    def expire_hold_soon(self, hold_id: str, seconds: int = 2) -> datetime:
        """As if the hold's time had nearly come: its stored expiry (record and cells) and its expiry
        schedule moved to ``seconds`` from now."""
        due = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=seconds)
        epoch = int(due.timestamp())
        holds, locks = self.table("HoldsTable"), self.table("SlotLocksTable")
        hold = holds.get_item(Key={"id": hold_id}, ConsistentRead=True)["Item"]
        holds.update_item(
            Key={"id": hold_id},
            UpdateExpression="SET expires_epoch = :e, expires_at = :a",
            ExpressionAttributeValues={":e": epoch, ":a": utc_iso(due)},
        )
        for owner in (f"doctor#{hold['doctor_id']}", f"patient#{hold['patient_id']}"):
            for item in locks.query(KeyConditionExpression=Key("owner").eq(owner), ConsistentRead=True)["Items"]:
                for name, value in item.items():
                    if len(name) == 3 and name.startswith("m") and value == hold_id:
                        locks.update_item(
                            Key={"owner": owner, "hour": item["hour"]},
                            UpdateExpression=f"SET x{name[1:]} = :e",
                            ExpressionAttributeValues={":e": epoch},
                        )
        group = next(s["group"] for s in until(lambda: [s for s in self.schedules() if s["name"] == f"hold-{hold_id}"]))
        schedule = self.scheduler.get_schedule(Name=f"hold-{hold_id}", GroupName=group)
        self.scheduler.update_schedule(
            Name=f"hold-{hold_id}",
            GroupName=group,
            ScheduleExpression=due.strftime("at(%Y-%m-%dT%H:%M:%S)"),
            ScheduleExpressionTimezone="UTC",
            FlexibleTimeWindow={"Mode": "OFF"},
            Target=schedule["Target"],
            ActionAfterCompletion="DELETE",
        )
        return due


@pytest.fixture(scope="module")
def api(stack):
    return Api(stack)


@pytest.fixture(scope="module")
def local(stack):
    return Local(stack)


@pytest.fixture(scope="module")
def patients(api):
    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(api.patient, range(2000, 2055)))


def test_a_hold_blocks_racing_bookings_and_frees_at_expiry_to_one_winner(api, local, patients):
    doctor, slot = api.doctor(family_name="Holder"), day_after(12) + timedelta(hours=9)
    hold = api.post("/holds", {"doctor_id": doctor, "patient_id": patients[0], "start": utc_iso(slot)})
    assert hold.status_code == 201, hold.text
    # while held: 20 racers for the held time, all refused
    blocked = fire([lambda p=p: api.book(doctor, p, slot) for p in patients[1:21]], workers=20)
    assert sorted(r.status_code for r in blocked) == [409] * 20
    # at expiry (moved to 2 s from now): 50 racers, exactly one winner, and the hold cannot be confirmed
    due = local.expire_hold_soon(hold.json()["id"])
    time.sleep(max(0.0, (due - datetime.now(UTC)).total_seconds()) + 0.05)
    answers = fire([lambda p=p: api.book(doctor, p, slot) for p in patients[1:51]])
    assert sorted(r.status_code for r in answers) == [201] + [409] * 49, [
        r.text for r in answers if r.status_code > 409
    ]
    late = api.post(f"/holds/{hold.json()['id']}/confirm", {})
    assert late.status_code == 409 and late.json()["code"] == "HOLD_EXPIRED"
    # the expiry worker records it (its schedule fired) and HoldExpired is published
    assert until(lambda: api.get(f"/holds/{hold.json()['id']}").json()["status"] == "expired")
    assert until(lambda: [e for e in local.events("HoldExpired") if e["detail"]["hold_id"] == hold.json()["id"]])


def test_confirming_a_hold_books_exactly_it_and_publishes_one_booking(api, local, patients):
    doctor, slot = api.doctor(family_name="Confirmer"), day_after(13) + timedelta(hours=10)
    hold = api.post(
        "/holds", {"doctor_id": doctor, "patient_id": patients[1], "start": utc_iso(slot), "duration_minutes": 30}
    ).json()
    confirmed = api.post(f"/holds/{hold['id']}/confirm", {"reason": "first visit"})
    assert confirmed.status_code == 201, confirmed.text
    assert (confirmed.json()["start"], confirmed.json()["end"]) == (hold["start"], hold["end"])
    booked = until(
        lambda: [
            e for e in local.events("AppointmentBooked") if e["detail"]["appointment_id"] == confirmed.json()["id"]
        ]
    )
    assert len(booked) == 1 and booked[0]["detail"]["hold_id"] == hold["id"]

    # HoldPlaced comes from the Holds table's stream, AppointmentBooked from the Appointments table's:
    # two streams, read by two consumers, so neither order nor arrival together is promised.
    def about_the_hold():
        return sorted(e["detail-type"] for e in local.events() if e["detail"].get("hold_id") == hold["id"])

    assert until(lambda: len(about_the_hold()) >= 2)
    time.sleep(1)  # a duplicate would arrive in the same pump cycles
    assert about_the_hold() == ["AppointmentBooked", "HoldPlaced"]


def test_the_waitlist_offers_freed_time_then_the_next_entry_when_an_offer_expires(api, local, patients):
    doctor = api.doctor(family_name="Waitlisted")
    day = day_after(16)
    x, y = day + timedelta(hours=9), day + timedelta(hours=10)
    taken_x, taken_y = api.book(doctor, patients[10], x).json(), api.book(doctor, patients[11], y).json()
    window = {"doctor_id": doctor, "from": utc_iso(day + timedelta(hours=8)), "to": utc_iso(day + timedelta(hours=11))}
    # the day is otherwise full for these patients' purposes: 08:00-11:00 is booked but for x and y
    for minutes in range(0, 180, 15):
        at = day + timedelta(hours=8, minutes=minutes)
        if at not in (x, y):
            assert api.book(doctor, patients[40 + minutes // 15 % 14], at).status_code in (201, 409)
    first = api.post("/waitlist", {**window, "patient_id": patients[20]}).json()
    second = api.post("/waitlist", {**window, "patient_id": patients[21]}).json()
    third = api.post("/waitlist", {**window, "patient_id": patients[22]}).json()
    # a cancellation: the oldest entry is offered the time within seconds (the contract: 60), as a hold
    assert api.post(f"/appointments/{taken_x['id']}/cancel", {"reason": "cannot come"}).status_code == 200
    offered = until(
        lambda: (lambda e: e if e["status"] == "offered" else None)(api.get(f"/waitlist/{first['id']}").json())
    )
    assert offered and offered["offer"]["start"] == utc_iso(x)
    assert api.get(f"/waitlist/{second['id']}").json()["status"] == "waiting"
    assert until(
        lambda: [e for e in local.events("WaitlistOfferMade") if e["detail"]["waitlist_entry_id"] == first["id"]]
    )
    # confirming books it
    confirmed = api.post(f"/holds/{offered['offer']['hold_id']}/confirm", {})
    assert confirmed.status_code == 201 and confirmed.json()["patient_id"] == patients[20]
    assert api.get(f"/waitlist/{first['id']}").json()["status"] == "booked"
    # another cancellation: the next entry is offered; its offer expires; the time goes to the one after
    assert api.post(f"/appointments/{taken_y['id']}/cancel", {"reason": "cannot come"}).status_code == 200
    offered = until(
        lambda: (lambda e: e if e["status"] == "offered" else None)(api.get(f"/waitlist/{second['id']}").json())
    )
    assert offered and offered["offer"]["start"] == utc_iso(y)
    local.expire_hold_soon(offered["offer"]["hold_id"])
    moved_on = until(
        lambda: (lambda e: e if e["status"] == "offered" else None)(api.get(f"/waitlist/{third['id']}").json())
    )
    assert moved_on and moved_on["offer"]["start"] == utc_iso(y)
    assert api.get(f"/waitlist/{second['id']}").json()["status"] == "waiting"  # queued again, after the others


def registered_despite_faults(api: Api, i: int) -> str:
    """A registration is a transaction too (the patient and its audit record): on the faulty stack it
    meets the injected faults, so it is sent again until one answers (a lost answer leaves a patient
    nobody books: harmless here)."""
    for _ in range(30):
        response = api.post(
            "/patients",
            {"given_name": "Race", "family_name": f"Patient{i}", "birth_date": "1990-01-01", "sex": "unknown"},
        )
        if response.status_code == 201:
            return response.json()["id"]
        assert response.status_code == 503, response.text
    raise AssertionError("30 registrations in a row met a fault")


def test_every_committed_change_publishes_exactly_one_event_id_and_a_failed_write_none(tmp_path):
    """A stack whose transactions fail on purpose, before they reach DynamoDB (nothing written) or
    after they committed (the answer lost): events must follow the stored state, not the answers."""
    log_file = tmp_path / "faulty.log"
    faulty = background.start(
        log_file, env={"CLINIC_FAULTS": "TransactWriteItems:before:0.3,TransactWriteItems:after:0.3", "LOCAL_WARM": "0"}
    )
    try:
        api = Api(
            Stack(url=faulty.url, dynamodb_endpoint=faulty.dynamodb_endpoint, log_file=log_file, process=faulty.process)
        )
        doctor, base = api.doctor(family_name="Faulty"), day_after(18) + timedelta(hours=8)
        patients = [registered_despite_faults(api, 3000 + i) for i in range(12)]
        answers = [api.book(doctor, patients[i], base + timedelta(minutes=15 * i)) for i in range(12)]
        answers += [api.book(doctor, patients[0], base)]  # refused or faulted: never a second event for 08:00
        assert {r.status_code for r in answers} <= {201, 409, 503}
        assert 503 in {r.status_code for r in answers[:12]}, "the faults did not fire: the test proves nothing"
        # the read's audit records (one per patient, so a transaction) meet the injected faults too: 503, retried
        committed = {
            a["id"] for a in api.schedule(doctor, base, base + timedelta(hours=4), retries_when_unavailable=20)
        }
        assert {r.json()["id"] for r in answers if r.status_code == 201} <= committed

        def published():
            found = requests.get(
                f"{faulty.url}/_local/events", params={"detail_type": "AppointmentBooked"}, timeout=30
            ).json()["items"]
            return [e for e in found if e["detail"]["doctor_id"] == doctor]

        events = until(
            lambda: (lambda found: found if {e["detail"]["appointment_id"] for e in found} >= committed else None)(
                published()
            ),
            seconds=30,
        )
        assert events, "not every committed booking was published"
        ids_by_appointment: dict[str, set] = {}
        for event in events:
            ids_by_appointment.setdefault(event["detail"]["appointment_id"], set()).add(event["detail"]["event_id"])
        assert set(ids_by_appointment) == committed  # nothing for a write that did not commit
        assert all(len(ids) == 1 for ids in ids_by_appointment.values())  # one id per change, however delivered
    finally:
        faulty.stop()


def test_a_reminder_moves_with_a_reschedule_and_vanishes_with_a_cancel(api, local, patients):
    doctor, start = api.doctor(family_name="Moves"), day_after(20) + timedelta(hours=14)
    booked = api.book(doctor, patients[30], start).json()
    name = f"reminder-{booked['id']}"

    def expression():
        found = [s for s in local.schedules() if s["name"] == name]
        return found[0]["expression"] if found else None

    at = lambda moment: (moment - timedelta(minutes=1440)).strftime("at(%Y-%m-%dT%H:%M:%S)")
    assert until(lambda: expression() == at(start))
    moved = start + timedelta(days=1)
    assert api.patch(f"/appointments/{booked['id']}", {"start": utc_iso(moved)}).status_code == 200
    assert until(lambda: expression() == at(moved))
    assert api.post(f"/appointments/{booked['id']}/cancel", {"reason": "r"}).status_code == 200
    assert until(lambda: expression() is None)


def test_the_pending_reminder_fired_once_at_its_time(local, pending_reminder):
    """The reminder of tests/integration/conftest.py's pending_reminder (made when the run began)."""
    wait = (pending_reminder["due"] - datetime.now(UTC)).total_seconds()
    time.sleep(max(0.0, wait))
    fired = until(
        lambda: [
            e for e in local.events("AppointmentReminder") if e["detail"]["appointment_id"] == pending_reminder["id"]
        ],
        seconds=30,
    )
    assert len(fired) == 1
    assert fired[0]["detail"]["start"] == pending_reminder["start"]
    assert instant(fired[0]["time"]) >= pending_reminder["due"] - timedelta(seconds=1)
    time.sleep(2)
    assert (
        len([e for e in local.events("AppointmentReminder") if e["detail"]["appointment_id"] == pending_reminder["id"]])
        == 1
    )
