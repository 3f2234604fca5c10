"""Every background function, declared once — the functions no route reaches: what triggers each one
and what it may do. The counterpart of clinic.routes: infra/generate.py makes each a function in
template.yaml with its event sources, IAM, log group, alarms and dashboard lines, and the local
stack runs them from that template (streams of DynamoDB Local, the local event bus, the local
scheduler).

Triggers:
- ``Stream(tables, events=...)``: the tables' DynamoDB streams (committed changes only, in order per
  item), in batches, a failing record retried and then sent to the dead-letter queue;
- ``Rule(detail_types)``: events of the stack's own EventBridge bus (source ``clinic.appointments``);
- ``Scheduled()``: invoked by EventBridge Scheduler's one-time schedules, which the code creates.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Stream:
    tables: tuple[str, ...]  # logical ids
    events: tuple[str, ...] = ()  # eventName filter (INSERT, MODIFY, REMOVE); empty: all
    batch_size: int = 100


@dataclass(frozen=True)
class Rule:
    detail_types: tuple[str, ...]


@dataclass(frozen=True)
class Scheduled:
    """Invoked by the schedules the code creates in the stack's schedule group."""


Trigger = Stream | Rule | Scheduled


@dataclass(frozen=True)
class Worker:
    function: str  # CamelCase: functions/<snake_case>/app.py, <function>Function in the template
    triggers: tuple[Trigger, ...]
    permissions: tuple[str, ...]  # clinic.data.permissions names
    description: str

    @property
    def logical_id(self) -> str:
        return f"{self.function}Function"

    @property
    def code_dir(self) -> str:
        return re.sub(r"(?<!^)(?=[A-Z])", "_", self.function).lower()

    @property
    def all_permissions(self) -> tuple[str, ...]:
        return self.permissions


FREED_TIME = ("AppointmentCancelled", "AppointmentRescheduled", "HoldReleased", "HoldExpired")
# the waitlist matcher's grants (clinic.services.waitlist.offer_freed_time)
# offers and expired entries are on the patient's trail as the service's (audit.append)
_MATCHER = (
    "waitlist.queue",
    "doctors.read",
    "settings.read",
    "settings.check",
    "slots.read",
    "holds.offer",
    "audit.append",
    "places.read",  # an offer of a type that needs rooms takes one, as a hold does
    "places.check",
    "resources.slots",
    "slots.read_many",
)

WORKERS: tuple[Worker, ...] = (
    Worker(
        "AuditTamperAlarm",
        (Stream(("AuditTable",), events=("MODIFY", "REMOVE")),),
        (),
        "Any change or removal of an audit record: AuditTampered (pages)",
    ),
    Worker(
        "PublishEvents",
        (Stream(("AppointmentsTable", "HoldsTable", "WaitlistTable")),),
        ("events.sources", "events.publish"),
        "Committed changes of appointments, holds and waitlist entries, as domain events on the bus",
    ),
    Worker(
        "ScheduleTimers",
        (
            Rule(
                (
                    "AppointmentBooked",
                    "AppointmentRescheduled",
                    "AppointmentCancelled",
                    "AppointmentStatusChanged",
                    "HoldPlaced",
                )
            ),
        ),
        ("appointments.read", "settings.read", "scheduler.timers"),
        "Reminder and hold-expiry schedules, kept in step with the appointments and holds",
    ),
    Worker(
        "SendReminder",
        (Scheduled(),),
        ("appointments.read", "settings.read", "events.publish"),
        "AppointmentReminder, for an appointment still booked at that start",
    ),
    Worker(
        "ExpireHold",
        (Scheduled(),),
        ("holds.read", "holds.end", "audit.append"),
        "A hold whose time has come: recorded expired (on the patient's trail), what it still holds freed",
    ),
    Worker("OfferWaitlist", (Rule(FREED_TIME),), _MATCHER, "Freed time offered to the oldest fitting waitlist entry"),
    Worker(
        "OfferWaitlistOnChange",
        (Stream(("WaitlistTable", "DoctorsTable"), events=("INSERT", "MODIFY")),),
        (*_MATCHER, "events.sources"),
        "A new or requeued waitlist entry, or a doctor's calendar change (time off deleted): offers too",
    ),
)

BY_FUNCTION: dict[str, Worker] = {worker.function: worker for worker in WORKERS}
