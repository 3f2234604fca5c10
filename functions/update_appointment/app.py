"""PATCH /appointments/{appointment_id}: reschedule atomically, or change status
(arrived, fulfilled, noshow)."""

from clinic.api import Request, endpoint, ok
from clinic.models.appointments import AppointmentOut, AppointmentUpdate
from clinic.observability import logger
from clinic.services import appointments


@endpoint(
    "UpdateAppointment",
    body=AppointmentUpdate,
    answers=AppointmentOut,
    summary="Reschedule or change the status of an appointment",
    conflicts="INVALID_TRANSITION, SLOT_UNAVAILABLE, PATIENT_UNAVAILABLE, RESOURCE_UNAVAILABLE or TOO_EARLY "
    "(a doctor marks arrived "
    "from the start of its local day, fulfilled or noshow once it has started)",
)
def update_appointment(request: Request):
    appointment, action = appointments.update(request.path["appointment_id"], request.body, request.caller)
    logger.info("appointment updated", extra={"appointment_id": appointment["id"], "action": action})
    return ok(appointment)


lambda_handler = update_appointment
