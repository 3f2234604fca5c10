"""PATCH /appointments/{appointment_id}: reschedule atomically, or change status
(arrived, fulfilled, noshow)."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Body

from clinic.api import caller, create_app, document, entrypoint, json_response
from clinic.models.appointments import AppointmentOut, AppointmentUpdate
from clinic.observability import logger
from clinic.services import appointments

app = create_app()


@app.patch("/appointments/<appointment_id>", summary="Reschedule or change the status of an appointment",
           tags=["appointments"],
           responses=document(200, AppointmentOut,
                              conflict="INVALID_TRANSITION, SLOT_UNAVAILABLE or PATIENT_UNAVAILABLE"))
def update_appointment(appointment_id: str, change: Annotated[AppointmentUpdate, Body()]):
    appointment, action = appointments.update(appointment_id, change, caller(app))
    logger.info("appointment updated", extra={"appointment_id": appointment["id"], "action": action})
    return json_response(200, appointment)


lambda_handler = entrypoint(app)
