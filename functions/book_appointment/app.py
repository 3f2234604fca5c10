"""POST /appointments: book a patient into a doctor's free time (staff, or a patient for themself)."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Body

from clinic.api import IdempotencyKey, caller, create_app, document, entrypoint, once
from clinic.models.appointments import AppointmentCreate, AppointmentOut
from clinic.observability import logger
from clinic.services import appointments

app = create_app()


@app.post("/appointments", summary="Book an appointment", tags=["appointments"],
          responses=document(201, AppointmentOut, "Booked",
                             conflict="SLOT_UNAVAILABLE, PATIENT_UNAVAILABLE or IDEMPOTENCY_IN_PROGRESS"))
def book_appointment(body: Annotated[AppointmentCreate, Body()], idempotency_key: IdempotencyKey = None):
    def book():
        appointment = appointments.book(body, caller(app))
        logger.info("appointment booked", extra={"appointment_id": appointment["id"],
                                                 "doctor_id": appointment["doctor_id"],
                                                 "patient_id": appointment["patient_id"]})
        return {"status": 201, "body": appointment, "headers": {"Location": f"/appointments/{appointment['id']}"}}

    return once(app, body.model_dump(mode="json"), book)


lambda_handler = entrypoint(app)
