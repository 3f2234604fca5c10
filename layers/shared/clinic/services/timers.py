"""Timers: a reminder per booked appointment, an expiry per hold, as one-time EventBridge Scheduler
schedules (clinic.data.schedules) — a design that holds a million future appointments without
scanning anything.

Kept in step from the domain events (the ScheduleTimers worker): whatever an event says, the timer
is set from the appointment *as it is now* (a consistent read), so events arriving late or out of
order cannot leave a stale reminder; and the reminder's target checks again when it fires
(``send_reminder``): only an appointment still booked for that very start is reminded, once
(its AppointmentReminder's event_id is derived from the appointment and start).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from clinic import events
from clinic.data import event_bus, schedules
from clinic.data.appointments import AppointmentStore
from clinic.models.common import now_utc, parse_utc, utc_iso
from clinic.observability import count, logger
from clinic.services import clinic_settings

SOONEST = timedelta(seconds=60)  # a timer already due fires this soon after it is set


def reminder_name(appointment_id: str) -> str:
    return f"reminder-{appointment_id}"


def hold_name(hold_id: str) -> str:
    return f"hold-{hold_id}"


def keep_reminder_in_step(appointment_id: str) -> None:
    """The appointment's reminder fires at start − reminder_lead_minutes if it is booked; else none."""
    appointment = AppointmentStore().get(appointment_id)
    lead = int(clinic_settings.fresh()["reminder_lead_minutes"])  # as set now: a change applies at once
    if appointment is None or appointment["status"] != "booked" or lead == 0:
        schedules.delete(reminder_name(appointment_id))
        return
    start = parse_utc(appointment["start_at"])
    due = max(start - timedelta(minutes=lead), now_utc() + SOONEST)
    if due >= start:
        schedules.delete(reminder_name(appointment_id))  # too late to remind
        return
    schedules.upsert(
        reminder_name(appointment_id),
        due,
        "REMINDER_TARGET_ARN",
        {"appointment_id": appointment_id, "start_at": appointment["start_at"]},
    )


def expire_hold_at(hold: dict[str, Any]) -> None:
    """The hold's expiry fires at its expires_at (the time is free then anyway: this records it), or
    soon after now when the event arrives late (a retried delivery): a past time is never scheduled."""
    schedules.upsert(
        hold_name(hold["hold_id"]),
        max(parse_utc(hold["expires_at"]), now_utc() + SOONEST),
        "HOLD_EXPIRY_TARGET_ARN",
        {"hold_id": hold["hold_id"]},
    )


def send_reminder(appointment_id: str, start_at: str) -> bool:
    """Publish AppointmentReminder if the appointment is still booked for that start and reminders are
    still on (reminder_lead_minutes set to 0 after the timer was set stops it); answers whether."""
    if int(clinic_settings.fresh()["reminder_lead_minutes"]) == 0:
        logger.info("reminder not sent: reminders are off", extra={"appointment_id": appointment_id})
        return False
    appointment = AppointmentStore().get(appointment_id)
    if appointment is None or appointment["status"] != "booked" or appointment["start_at"] != start_at:
        logger.info("reminder not sent: the appointment changed", extra={"appointment_id": appointment_id})
        return False
    event_bus.put([events.reminder(appointment, utc_iso(now_utc()))])
    count("ReminderSent")
    return True
