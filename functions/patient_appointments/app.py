"""GET /patients/{patient_id}/appointments: a patient's appointments (every status unless
?status=), starting in [from, to), by start, paginated."""

from typing import Annotated, Literal, Optional

from aws_lambda_powertools.event_handler.openapi.params import Query

from clinic.api import caller, create_app, document, entrypoint, json_response
from clinic.models.appointments import AppointmentOut
from clinic.models.common import DEFAULT_LIMIT, MAX_LIMIT, Page
from clinic.services import appointments

app = create_app()


@app.get("/patients/<patient_id>/appointments", summary="A patient's appointments", tags=["patients"],
         responses=document(200, Page[AppointmentOut]))
def patient_appointments(
    patient_id: str,
    from_: Annotated[Optional[str], Query(alias="from", description="RFC 3339 instant with offset")] = None,
    to: Annotated[Optional[str], Query(description="RFC 3339 instant with offset")] = None,
    status: Annotated[Optional[Literal["booked", "arrived", "fulfilled", "cancelled", "noshow"]], Query()] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    next_token: Annotated[Optional[str], Query(min_length=1, max_length=2048)] = None,
):
    return json_response(200, appointments.patient_appointments(patient_id, from_, to, status, limit, next_token,
                                                                caller(app)))


lambda_handler = entrypoint(app)
