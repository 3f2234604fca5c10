"""GET /patients: list patients, paginated (staff)."""

from typing import Annotated, Optional

from aws_lambda_powertools.event_handler.openapi.params import Query

from clinic.api import create_app, document, entrypoint, json_response
from clinic.models.common import DEFAULT_LIMIT, MAX_LIMIT, Page
from clinic.models.patients import PatientOut
from clinic.services import patients

app = create_app()


@app.get("/patients", summary="List patients", tags=["patients"], responses=document(200, Page[PatientOut]))
def list_patients(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    next_token: Annotated[Optional[str], Query(min_length=1, max_length=2048)] = None,
):
    return json_response(200, patients.list_page(limit, next_token))


lambda_handler = entrypoint(app)
