"""Domain events, timers and the waitlist at the function level (moto's EventBridge and Scheduler):
the publisher reads stream records as the catalogue's events; the timers follow the appointment as it
is now; a reminder fires only for an appointment still booked for that start; freed time is offered
to the oldest fitting waitlist entry, as a hold."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import boto3
import pytest

from clinic import events
from clinic.services import timers
from local_stack import template as tpl
from tests import days
from tests.claims import claims_of
from tests.days import at
from tests.handlers.conftest import event_for, load_event
from tests.handlers.helpers import ServiceClock
from tests.handlers.test_appointments import DOCTOR, PATIENT

STAFF = claims_of("staff", sub="staff-events")
BUS = "clinic-local-events"
GROUP = "clinic-local-timers"


@pytest.fixture
def delivered(aws):
    """Everything put on the stack's bus, read back through a rule to a queue."""
    sqs, bridge = boto3.client("sqs", region_name="us-east-1"), boto3.client("events", region_name="us-east-1")
    queue = sqs.create_queue(QueueName="bus-tap")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    bridge.put_rule(Name="tap", EventBusName=BUS, EventPattern=json.dumps({"source": [events.SOURCE]}))
    bridge.put_targets(Rule="tap", EventBusName=BUS, Targets=[{"Id": "q", "Arn": arn}])

    def read() -> list[dict]:
        found = []
        while True:
            messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", [])
            if not messages:
                return found
            for message in messages:
                found.append(json.loads(message["Body"]))
                sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])

    return read


@pytest.fixture
def world(invoke):
    def post(function, resource, body):
        response = invoke(function, event_for("POST", resource, body=body, claims=STAFF))
        assert response["statusCode"] == 201, response
        return response["json"]

    return {
        "doctor": post("CreateDoctorFunction", "/doctors", DOCTOR)["id"],
        "patient": post("RegisterPatientFunction", "/patients", PATIENT)["id"],
        "other": post("RegisterPatientFunction", "/patients", {**PATIENT, "given_name": "O"})["id"],
        "day": days.monday(),
        "post": post,
    }


def stream_record(kind_table: str, old: dict | None, new: dict | None, name: str) -> dict:
    from boto3.dynamodb.types import TypeSerializer

    pack = TypeSerializer().serialize
    image = lambda item: {k: pack(v) for k, v in item.items()} if item else None
    change = {
        "Keys": {"id": pack((new or old)["id"])},
        "StreamViewType": "NEW_AND_OLD_IMAGES",
        "SequenceNumber": "1",
        "SizeBytes": 1,
    }
    if old:
        change["OldImage"] = image(old)
    if new:
        change["NewImage"] = image(new)
    return {
        "eventID": "e1",
        "eventName": name,
        "eventSource": "aws:dynamodb",
        "dynamodb": change,
        "eventSourceARN": f"arn:aws:dynamodb:us-east-1:000000000000:table/clinic-local-{kind_table}/stream/x",
    }


def test_the_publisher_puts_each_committed_change_as_its_event_with_a_stable_id(invoke, world, delivered):
    booked = world["post"](
        "BookAppointmentFunction",
        "/appointments",
        {
            "patient_id": world["patient"],
            "doctor_id": world["doctor"],
            "start": at(world["day"], "09:00"),
            "reason": "chest pain, private",
        },
    )
    stored = {
        "id": booked["id"],
        "patient_id": world["patient"],
        "doctor_id": world["doctor"],
        "version": 1,
        "start_at": booked["start"],
        "end_at": booked["end"],
        "status": "booked",
        "reason": "chest pain, private",
        "appointment_type": "oncology-follow-up",  # a clinic's own code can name a condition
        "created_at": booked["created_at"],
        "updated_at": booked["updated_at"],
    }
    moved = {**stored, "version": 2, "start_at": "2099-01-01T10:00:00Z", "end_at": "2099-01-01T10:15:00Z"}
    cancelled = {**moved, "version": 3, "status": "cancelled", "cancellation_reason": "ill"}
    batch = {
        "Records": [
            stream_record("AppointmentsTable", None, stored, "INSERT"),
            stream_record("AppointmentsTable", stored, moved, "MODIFY"),
            stream_record("AppointmentsTable", moved, cancelled, "MODIFY"),
        ]
    }
    assert invoke.worker("PublishEventsFunction", batch) == {"batchItemFailures": []}
    published = delivered()
    assert [e["detail-type"] for e in published] == [
        "AppointmentBooked",
        "AppointmentRescheduled",
        "AppointmentCancelled",
    ]
    assert published[1]["detail"]["previous_start"] == booked["start"]
    assert [e["detail"]["sequence"] for e in published] == [1, 2, 3]
    # no name, reason or contact detail in any event
    text = json.dumps(published)
    assert "chest pain" not in text and "ill" not in text.replace("illed", "") and PATIENT["family_name"] not in text
    assert "oncology" not in text
    # a redelivered record is the same event: the same event_id
    invoke.worker("PublishEventsFunction", {"Records": batch["Records"][:1]})
    again = delivered()
    assert again[0]["detail"]["event_id"] == published[0]["detail"]["event_id"]


@pytest.mark.parametrize(
    "old, new, expected",
    [
        (None, {"status": "held"}, ["HoldPlaced"]),
        ({"status": "held"}, {"status": "released"}, ["HoldReleased"]),
        ({"status": "held"}, {"status": "expired"}, ["HoldExpired"]),
        ({"status": "held"}, {"status": "confirmed"}, []),
    ],
)
def test_hold_changes_read_as_the_catalogues_events(old, new, expected):
    base = {
        "id": "h",
        "patient_id": "p",
        "doctor_id": "d",
        "start_at": "s",
        "end_at": "e",
        "expires_at": "x",
        "version": 1,
    }
    found = events.hold_events({**base, **old} if old else {}, {**base, **new, "version": 2})
    assert [e["detail-type"] for e in found] == expected


@pytest.mark.clock_sensitive
def test_timers_follow_the_appointment_as_it_is_now(invoke, world):
    scheduler = boto3.client("scheduler", region_name="us-east-1")
    booked = world["post"](
        "BookAppointmentFunction",
        "/appointments",
        {"patient_id": world["patient"], "doctor_id": world["doctor"], "start": at(world["day"], "10:00")},
    )
    note = {"detail-type": "AppointmentBooked", "detail": {"appointment_id": booked["id"]}}
    invoke.worker("ScheduleTimersFunction", note)
    schedule = scheduler.get_schedule(Name=f"reminder-{booked['id']}", GroupName=GROUP)
    start = datetime.fromisoformat(booked["start"].replace("Z", "+00:00"))
    # the reminder fires at start - reminder_lead_minutes (1440 by default)
    assert schedule["ScheduleExpression"] == (start - timedelta(days=1)).strftime("at(%Y-%m-%dT%H:%M:%S)")
    assert json.loads(schedule["Target"]["Input"]) == {"appointment_id": booked["id"], "start_at": booked["start"]}
    # cancelled: whatever event arrives (even a stale "booked" one), the reminder is gone
    invoke(
        "CancelAppointmentFunction",
        event_for(
            "POST", "/appointments/{appointment_id}/cancel", {"appointment_id": booked["id"]}, body={"reason": "r"}
        ),
    )
    invoke.worker("ScheduleTimersFunction", note)
    with pytest.raises(scheduler.exceptions.ResourceNotFoundException):
        scheduler.get_schedule(Name=f"reminder-{booked['id']}", GroupName=GROUP)


@pytest.mark.clock_sensitive
def test_a_hold_placed_event_arriving_after_the_expiry_still_schedules_it_in_the_future(invoke):
    scheduler = boto3.client("scheduler", region_name="us-east-1")
    # Given a HoldPlaced event delivered late (a retry): the hold expired two minutes ago
    expired = datetime.now(UTC) - timedelta(minutes=2)
    late = {
        "detail-type": "HoldPlaced",
        "detail": {
            "hold_id": "7d0c8f8e-1111-4111-8111-111111111111",
            "expires_at": expired.strftime("%Y-%m-%dT%H:%M:%SZ"),
        },
    }
    # When the timers worker handles it
    before = datetime.now(UTC)
    invoke.worker("ScheduleTimersFunction", late)
    after = datetime.now(UTC)
    # Then the expiry is scheduled SOONEST after the worker's now, never at a time already past
    schedule = scheduler.get_schedule(Name="hold-7d0c8f8e-1111-4111-8111-111111111111", GroupName=GROUP)
    fires = datetime.strptime(schedule["ScheduleExpression"], "at(%Y-%m-%dT%H:%M:%S)").replace(tzinfo=UTC)
    whole_second = timedelta(seconds=1)  # the expression has no fractions of a second
    assert before + timers.SOONEST - whole_second < fires <= after + timers.SOONEST
    assert fires > expired


def test_a_reminder_fires_only_for_an_appointment_still_booked_for_that_start(invoke, world, delivered):
    booked = world["post"](
        "BookAppointmentFunction",
        "/appointments",
        {"patient_id": world["patient"], "doctor_id": world["doctor"], "start": at(world["day"], "11:00")},
    )
    invoke.worker("SendReminderFunction", {"appointment_id": booked["id"], "start_at": "2099-01-01T09:00:00Z"})
    assert delivered() == []  # moved since: not this start
    invoke.worker("SendReminderFunction", {"appointment_id": booked["id"], "start_at": booked["start"]})
    (reminder,) = delivered()
    assert reminder["detail-type"] == "AppointmentReminder" and reminder["detail"]["appointment_id"] == booked["id"]


def test_freed_time_is_offered_to_the_oldest_fitting_waitlist_entry_as_a_hold(invoke, world):
    # Given the doctor's 09:00 booked by "other", and two patients waiting for that morning
    taken = world["post"](
        "BookAppointmentFunction",
        "/appointments",
        {"patient_id": world["other"], "doctor_id": world["doctor"], "start": at(world["day"], "09:00")},
    )
    window = {"doctor_id": world["doctor"], "from": at(world["day"], "09:00"), "to": at(world["day"], "09:15")}
    first = world["post"]("JoinWaitlistFunction", "/waitlist", {**window, "patient_id": world["patient"]})
    second_patient = world["post"]("RegisterPatientFunction", "/patients", {**PATIENT, "given_name": "S"})["id"]
    second = world["post"]("JoinWaitlistFunction", "/waitlist", {**window, "patient_id": second_patient})
    assert first["status"] == "waiting" and first["offer"] is None
    # When the booking is cancelled and the matcher hears of it
    invoke(
        "CancelAppointmentFunction",
        event_for(
            "POST", "/appointments/{appointment_id}/cancel", {"appointment_id": taken["id"]}, body={"reason": "r"}
        ),
    )
    invoke.worker(
        "OfferWaitlistFunction", {"detail-type": "AppointmentCancelled", "detail": {"doctor_id": world["doctor"]}}
    )
    # Then the oldest entry is offered the time as a hold; the other still waits
    read = lambda entry: invoke(
        "GetWaitlistEntryFunction",
        event_for("GET", "/waitlist/{entry_id}", {"entry_id": entry["id"]}),
    )["json"]
    offered, waiting = read(first), read(second)
    assert offered["status"] == "offered" and waiting["status"] == "waiting"
    assert offered["offer"]["start"] == taken["start"]
    hold = invoke("GetHoldFunction", event_for("GET", "/holds/{hold_id}", {"hold_id": offered["offer"]["hold_id"]}))
    assert hold["json"]["status"] == "held" and hold["json"]["patient_id"] == world["patient"]
    # the matcher running again offers nothing twice
    invoke.worker("OfferWaitlistFunction", {"detail-type": "HoldReleased", "detail": {"doctor_id": world["doctor"]}})
    assert read(second)["status"] == "waiting"
    # When the first patient releases the offer, the entry waits again (queued last) and the time goes to the next
    assert (
        invoke(
            "ReleaseHoldFunction", event_for("DELETE", "/holds/{hold_id}", {"hold_id": offered["offer"]["hold_id"]})
        )["statusCode"]
        == 204
    )
    assert read(first)["status"] == "waiting"
    invoke.worker("OfferWaitlistFunction", {"detail-type": "HoldReleased", "detail": {"doctor_id": world["doctor"]}})
    next_offer = read(second)
    assert next_offer["status"] == "offered" and read(first)["status"] == "waiting"
    # Confirming the offer books it and the entry is booked
    confirmed = invoke(
        "ConfirmHoldFunction",
        event_for("POST", "/holds/{hold_id}/confirm", {"hold_id": next_offer["offer"]["hold_id"]}, body={}),
    )
    assert confirmed["statusCode"] == 201 and confirmed["json"]["patient_id"] == second_patient
    assert read(second)["status"] == "booked"


def test_an_entry_whose_time_is_already_free_is_offered_when_it_joins(invoke, world):
    entry = world["post"](
        "JoinWaitlistFunction",
        "/waitlist",
        {
            "patient_id": world["patient"],
            "doctor_id": world["doctor"],
            "from": at(world["day"], "13:00"),
            "to": at(world["day"], "14:00"),
        },
    )
    record = load_event("offer_waitlist_on_change")["Records"][0]
    record["dynamodb"]["NewImage"]["doctor_id"] = {"S": world["doctor"]}
    invoke.worker("OfferWaitlistOnChangeFunction", {"Records": [record]})
    got = invoke("GetWaitlistEntryFunction", event_for("GET", "/waitlist/{entry_id}", {"entry_id": entry["id"]}))
    assert got["json"]["status"] == "offered"
    assert got["json"]["offer"]["start"] == at_utc(world["day"], "13:00")
    # leaving the waitlist releases the offer at once
    assert (
        invoke("LeaveWaitlistFunction", event_for("DELETE", "/waitlist/{entry_id}", {"entry_id": entry["id"]}))[
            "statusCode"
        ]
        == 204
    )
    assert (
        invoke("GetWaitlistEntryFunction", event_for("GET", "/waitlist/{entry_id}", {"entry_id": entry["id"]}))["json"][
            "status"
        ]
        == "cancelled"
    )
    hold = invoke("GetHoldFunction", event_for("GET", "/holds/{hold_id}", {"hold_id": got["json"]["offer"]["hold_id"]}))
    assert hold["json"]["status"] == "released"


def at_utc(day, hhmm):
    from datetime import datetime

    return datetime.fromisoformat(at(day, hhmm)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# ---------------------------------------------------------------------- waitlist edges
def services_clock(monkeypatch) -> ServiceClock:
    """The clock of booking, holds and the waitlist, set by the test (tests/handlers/helpers.py)."""
    return ServiceClock(
        monkeypatch, "clinic.services.appointments", "clinic.services.holds", "clinic.services.waitlist"
    )


def settings(invoke, **values):
    assert (
        invoke("UpdateSettingsFunction", event_for("PATCH", "/settings", body=values, claims=STAFF))["statusCode"]
        == 200
    )


def offer_on_change(invoke, world):
    record = load_event("offer_waitlist_on_change")["Records"][0]
    record["dynamodb"]["NewImage"]["doctor_id"] = {"S": world["doctor"]}
    invoke.worker("OfferWaitlistOnChangeFunction", {"Records": [record]})


def read_entry(invoke, entry):
    return invoke("GetWaitlistEntryFunction", event_for("GET", "/waitlist/{entry_id}", {"entry_id": entry["id"]}))[
        "json"
    ]


def test_an_offer_that_expired_reads_as_waiting_and_the_entry_can_still_leave(invoke, world, monkeypatch):
    # Given an entry offered a hold (60 minutes, the default), and the expiry worker not run yet
    clock = services_clock(monkeypatch)
    entry = world["post"](
        "JoinWaitlistFunction",
        "/waitlist",
        {
            "patient_id": world["patient"],
            "doctor_id": world["doctor"],
            "from": at(world["day"], "13:00"),
            "to": at(world["day"], "15:00"),
        },
    )
    offer_on_change(invoke, world)
    offer = read_entry(invoke, entry)["offer"]
    # When the offer's expiry passes
    clock.set_to(offer["expires_at"].replace("Z", "+00:00"))
    # Then the entry reads as waiting again, without the offer
    now_read = read_entry(invoke, entry)
    assert now_read["status"] == "waiting" and now_read["offer"] is None
    # and leaving works: the hold is recorded expired and the entry cancelled
    assert (
        invoke("LeaveWaitlistFunction", event_for("DELETE", "/waitlist/{entry_id}", {"entry_id": entry["id"]}))[
            "statusCode"
        ]
        == 204
    )
    assert read_entry(invoke, entry)["status"] == "cancelled"
    hold = invoke("GetHoldFunction", event_for("GET", "/holds/{hold_id}", {"hold_id": offer["hold_id"]}))["json"]
    assert hold["status"] == "expired"
    # and the expiry worker, firing late, changes nothing more
    invoke.worker("ExpireHoldFunction", {"hold_id": offer["hold_id"]})
    assert read_entry(invoke, entry)["status"] == "cancelled"


def test_entries_whose_window_passed_leave_the_queue_and_never_block_newer_ones(invoke, world, monkeypatch):
    from clinic.data import waitlist as storage
    from clinic.services import waitlist

    # Given an old entry for 13:00-13:15 and a newer one for 14:00-15:00, read one at a time
    monkeypatch.setattr(waitlist, "QUEUE_READ", 1)
    clock = services_clock(monkeypatch)
    join = lambda start, end: world["post"](
        "JoinWaitlistFunction",
        "/waitlist",
        {
            "patient_id": world["patient"],
            "doctor_id": world["doctor"],
            "from": at(world["day"], start),
            "to": at(world["day"], end),
        },
    )
    stale, newer = join("13:00", "13:15"), join("14:00", "15:00")
    # When the matcher runs at 13:30 that day
    clock.set_to(at(world["day"], "13:30"))
    offer_on_change(invoke, world)
    # Then the stale entry is recorded expired and out of the doctor's queue, and the newer one is offered
    assert storage.get(stale["id"])["status"] == "expired"
    assert [e["id"] for e in storage.queue(world["doctor"], 10)[0]] == []
    offered = read_entry(invoke, newer)
    assert offered["status"] == "offered" and offered["offer"]["start"] == at_utc(world["day"], "14:00")


def test_an_offer_respects_the_patients_minimum_notice(invoke, world, monkeypatch):
    # Given two hours' notice for patients, and it is 07:59 on the day
    settings(invoke, min_notice_minutes=120)
    clock = services_clock(monkeypatch)
    entry = world["post"](
        "JoinWaitlistFunction",
        "/waitlist",
        {
            "patient_id": world["patient"],
            "doctor_id": world["doctor"],
            "from": at(world["day"], "09:00"),
            "to": at(world["day"], "11:00"),
        },
    )
    clock.set_to(at(world["day"], "07:59"))
    # When the matcher offers time
    offer_on_change(invoke, world)
    # Then the offer starts no earlier than 10:00, which the patient could have booked themselves
    assert read_entry(invoke, entry)["offer"]["start"] == at_utc(world["day"], "10:00")


def test_reminders_turned_off_stop_reminders_already_scheduled(invoke, world, delivered):
    booked = world["post"](
        "BookAppointmentFunction",
        "/appointments",
        {"patient_id": world["patient"], "doctor_id": world["doctor"], "start": at(world["day"], "11:00")},
    )
    settings(invoke, reminder_lead_minutes=0)
    invoke.worker("SendReminderFunction", {"appointment_id": booked["id"], "start_at": booked["start"]})
    assert delivered() == []


def test_a_timer_the_scheduler_cannot_deliver_goes_to_the_dead_letter_queue(invoke, world):
    booked = world["post"](
        "BookAppointmentFunction",
        "/appointments",
        {"patient_id": world["patient"], "doctor_id": world["doctor"], "start": at(world["day"], "16:00")},
    )
    invoke.worker(
        "ScheduleTimersFunction", {"detail-type": "AppointmentBooked", "detail": {"appointment_id": booked["id"]}}
    )
    schedule = boto3.client("scheduler", region_name="us-east-1").get_schedule(
        Name=f"reminder-{booked['id']}", GroupName=GROUP
    )
    assert schedule["Target"]["DeadLetterConfig"]["Arn"].endswith(":clinic-local-EventsDeadLetterQueue")


def test_every_timer_is_created_with_the_stacks_key(invoke, world):
    """A schedule's input names the appointment (or hold) and the start: it is kept under the stack's
    customer-managed key (the function's SCHEDULE_KMS_KEY_ARN), never the scheduler's own key."""
    booked = world["post"](
        "BookAppointmentFunction",
        "/appointments",
        {"patient_id": world["patient"], "doctor_id": world["doctor"], "start": at(world["day"], "16:30")},
    )
    invoke.worker(
        "ScheduleTimersFunction", {"detail-type": "AppointmentBooked", "detail": {"appointment_id": booked["id"]}}
    )
    schedule = boto3.client("scheduler", region_name="us-east-1").get_schedule(
        Name=f"reminder-{booked['id']}", GroupName=GROUP
    )
    key = tpl.function("ScheduleTimersFunction").environment["SCHEDULE_KMS_KEY_ARN"]
    assert key.startswith("arn:aws:kms:") and schedule["KmsKeyArn"] == key


def test_joining_the_waitlist_for_an_unknown_or_inactive_patient_is_refused_and_queues_nothing(invoke, world):
    from clinic.data import waitlist as storage

    window = {"doctor_id": world["doctor"], "from": at(world["day"], "13:00"), "to": at(world["day"], "14:00")}
    # Given a patient id nobody registered, and a patient deactivated
    unknown = "5b8f3f4e-0000-4000-8000-000000000000"
    invoke(
        "UpdatePatientFunction",
        event_for("PATCH", "/patients/{patient_id}", {"patient_id": world["other"]}, body={"active": False}),
    )
    # When staff put each of them on the waitlist
    answers = [
        invoke("JoinWaitlistFunction", event_for("POST", "/waitlist", body={**window, "patient_id": p}, claims=STAFF))
        for p in (unknown, world["other"])
    ]
    # Then 404 and 422, as a booking would answer, and the doctor's queue stays empty
    assert [a["statusCode"] for a in answers] == [404, 422]
    assert answers[1]["json"]["errors"][0]["field"] == "patient_id"
    assert storage.queue(world["doctor"], 10)[0] == []


def test_an_entry_whose_patient_can_take_no_time_costs_one_try_and_the_next_entry_is_offered(
    invoke, world, monkeypatch
):
    from clinic.services import holds

    # Given a limit of one open appointment, the first patient holding theirs, and both patients waiting
    # for a morning of free slots (the first patient queued first)
    settings(invoke, max_open_appointments_per_patient=1)
    world["post"](
        "BookAppointmentFunction",
        "/appointments",
        {"patient_id": world["patient"], "doctor_id": world["doctor"], "start": at(world["day"], "16:00")},
    )
    window = {"doctor_id": world["doctor"], "from": at(world["day"], "09:00"), "to": at(world["day"], "12:00")}
    first = world["post"]("JoinWaitlistFunction", "/waitlist", {**window, "patient_id": world["patient"]})
    second = world["post"]("JoinWaitlistFunction", "/waitlist", {**window, "patient_id": world["other"]})
    tries = []
    place = holds.place
    monkeypatch.setattr(
        holds, "place", lambda request, *a, **k: tries.append(request.patient_id) or place(request, *a, **k)
    )
    # When the matcher runs
    offer_on_change(invoke, world)
    # Then the first entry was tried once (not once per free slot of its window) and still waits,
    # and the second entry is offered the first free time
    assert [str(p) for p in tries] == [world["patient"], world["other"]]
    assert read_entry(invoke, first)["status"] == "waiting"
    offered = read_entry(invoke, second)
    assert offered["status"] == "offered" and offered["offer"]["start"] == at_utc(world["day"], "09:00")
