"""POST /appointments/{appointment_id}/cancel: cancel with a reason; the time is free at once."""

from clinic.api import Request, endpoint, ok
from clinic.models.appointments import AppointmentOut, CancelRequest
from clinic.observability import logger
from clinic.services import appointments


@endpoint(
    "CancelAppointment",
    body=CancelRequest,
    answers=AppointmentOut,
    summary="Cancel an appointment",
    conflicts="INVALID_TRANSITION, TOO_LATE_TO_CHANGE or IDEMPOTENCY_IN_PROGRESS",
)
def cancel_appointment(request: Request):
    appointment = appointments.cancel(request.path["appointment_id"], request.body, request.caller)
    logger.info("appointment cancelled", extra={"appointment_id": appointment["id"]})
    return ok(appointment)


lambda_handler = cancel_appointment
