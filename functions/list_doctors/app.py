"""GET /doctors: list doctors, optionally of one specialty (any authenticated user)."""

from typing import Annotated, Optional

from aws_lambda_powertools.event_handler.openapi.params import Query

from clinic.api import create_app, document, entrypoint, json_response
from clinic.models.common import DEFAULT_LIMIT, MAX_LIMIT, Page
from clinic.models.doctors import DoctorOut
from clinic.services import doctors

app = create_app()


@app.get("/doctors", summary="List doctors", tags=["doctors"], responses=document(200, Page[DoctorOut]))
def list_doctors(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    next_token: Annotated[Optional[str], Query(min_length=1, max_length=2048)] = None,
    specialty: Annotated[Optional[str], Query(min_length=1, max_length=100,
                                              description="Whole specialty, any case")] = None,
):
    return json_response(200, doctors.list_page(limit, next_token, specialty))


lambda_handler = entrypoint(app)
