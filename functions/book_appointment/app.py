"""POST /appointments: book a patient into a doctor's free time (staff, or a patient for themself)."""

from clinic.api import Request, created, endpoint
from clinic.models.appointments import AppointmentCreate, AppointmentOut
from clinic.observability import logger
from clinic.services import appointments


@endpoint(
    "BookAppointment",
    body=AppointmentCreate,
    answers=AppointmentOut,
    status=201,
    summary="Book an appointment",
    conflicts="SLOT_UNAVAILABLE, PATIENT_UNAVAILABLE, RESOURCE_UNAVAILABLE (no room or equipment of a needed kind "
    "free, or a chosen one busy), TOO_MANY_APPOINTMENTS or IDEMPOTENCY_IN_PROGRESS",
)
def book_appointment(request: Request):
    appointment = appointments.book(request.body, request.caller)
    logger.info(
        "appointment booked",
        extra={
            "appointment_id": appointment["id"],
            "doctor_id": appointment["doctor_id"],
            "patient_id": appointment["patient_id"],
        },
    )
    return created(f"/appointments/{appointment['id']}", appointment)


lambda_handler = book_appointment
