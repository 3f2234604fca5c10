"""Reminders and hold expiries kept in step with the appointments and holds: each event names the
record, and its timer is set from the record as it is now (clinic.services.timers)."""

from clinic.background import events
from clinic.services import timers


@events("ScheduleTimers")
def keep_timers(event: dict) -> None:
    detail = event["detail"]
    if event["detail-type"] == "HoldPlaced":
        timers.expire_hold_at(detail)
    else:
        timers.keep_reminder_in_step(detail["appointment_id"])


lambda_handler = keep_timers
