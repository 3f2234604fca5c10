"""GET /doctors/{doctor_id}/availability: free bookable grid slots in [from, to) (at most 14 days)."""

from typing import Annotated, Optional

from aws_lambda_powertools.event_handler.openapi.params import Query

from clinic.api import create_app, document, entrypoint, json_response
from clinic.models.appointments import Availability
from clinic.services import appointments

app = create_app()


@app.get("/doctors/<doctor_id>/availability", summary="A doctor's free slots", tags=["doctors"],
         responses=document(200, Availability))
def doctor_availability(
    doctor_id: str,
    from_: Annotated[str, Query(alias="from", description="RFC 3339 instant with an offset")],
    to: Annotated[str, Query(description="RFC 3339 instant with an offset; span ≤ 14 days")],
):
    return json_response(200, appointments.availability(doctor_id, from_, to))


lambda_handler = entrypoint(app)
