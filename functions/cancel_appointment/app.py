"""POST /appointments/{appointment_id}/cancel: cancel with a reason; the time is free at once."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Body

from clinic.api import IdempotencyKey, caller, create_app, document, entrypoint, once
from clinic.models.appointments import AppointmentOut, CancelRequest
from clinic.observability import logger
from clinic.services import appointments

app = create_app()


@app.post("/appointments/<appointment_id>/cancel", summary="Cancel an appointment", tags=["appointments"],
          responses=document(200, AppointmentOut, conflict="INVALID_TRANSITION or IDEMPOTENCY_IN_PROGRESS"))
def cancel_appointment(appointment_id: str, request: Annotated[CancelRequest, Body()],
                       idempotency_key: IdempotencyKey = None):
    def cancel():
        appointment = appointments.cancel(appointment_id, request, caller(app))
        logger.info("appointment cancelled", extra={"appointment_id": appointment["id"]})
        return {"status": 200, "body": appointment, "headers": {}}

    return once(app, request.model_dump(mode="json"), cancel)


lambda_handler = entrypoint(app)
