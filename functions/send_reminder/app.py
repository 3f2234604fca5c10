"""A reminder schedule fired: AppointmentReminder, if the appointment is still booked for that start."""

from clinic.background import events
from clinic.services import timers


@events("SendReminder")
def send_reminder(event: dict) -> None:
    timers.send_reminder(event["appointment_id"], event["start_at"])


lambda_handler = send_reminder
