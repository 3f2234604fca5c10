"""POST /appointments: book a patient into a doctor's free time (staff, or a patient for themself)."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Body

from clinic.api import caller, create_app, created, document, entrypoint
from clinic.models.appointments import AppointmentCreate, AppointmentOut
from clinic.observability import logger
from clinic.services import appointments

app = create_app()


@app.post("/appointments", summary="Book an appointment", tags=["appointments"],
          responses=document(201, AppointmentOut, "Booked",
                             conflict="SLOT_UNAVAILABLE, PATIENT_UNAVAILABLE or IDEMPOTENCY_IN_PROGRESS"))
def book_appointment(body: Annotated[AppointmentCreate, Body()]):
    caller(app)
    appointment = appointments.book(body)
    logger.info("appointment booked", extra={"appointment_id": appointment["id"],
                                             "doctor_id": appointment["doctor_id"],
                                             "patient_id": appointment["patient_id"]})
    return created(f"/appointments/{appointment['id']}", appointment)


lambda_handler = entrypoint(app)
