"""GET /doctors/{doctor_id}/schedule: a doctor's non-cancelled appointments starting in
[from, to) (at most 31 days), by start, paginated."""

from typing import Annotated, Optional

from aws_lambda_powertools.event_handler.openapi.params import Query

from clinic.api import caller, create_app, document, entrypoint, json_response
from clinic.models.appointments import AppointmentOut
from clinic.models.common import DEFAULT_LIMIT, MAX_LIMIT, Page
from clinic.services import appointments

app = create_app()


@app.get("/doctors/<doctor_id>/schedule", summary="A doctor's schedule", tags=["doctors"],
         responses=document(200, Page[AppointmentOut]))
def doctor_schedule(
    doctor_id: str,
    from_: Annotated[str, Query(alias="from", description="RFC 3339 instant with an offset")],
    to: Annotated[str, Query(description="RFC 3339 instant with an offset; span ≤ 31 days")],
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    next_token: Annotated[Optional[str], Query(min_length=1, max_length=2048)] = None,
):
    return json_response(200, appointments.doctor_schedule(doctor_id, from_, to, limit, next_token, caller(app)))


lambda_handler = entrypoint(app)
