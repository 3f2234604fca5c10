"""POST /patients/search: find patients by family-name prefix and/or birth date (staff, doctors).

A POST, so that names and birth dates never appear in a URL."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Body

from clinic.api import create_app, document, entrypoint, json_response
from clinic.models.common import Page
from clinic.models.patients import PatientOut, PatientSearch
from clinic.services import patients

app = create_app()


@app.post("/patients/search", summary="Search patients", tags=["patients"], responses=document(200, Page[PatientOut]))
def search_patients(criteria: Annotated[PatientSearch, Body()]):
    return json_response(200, patients.search(criteria))


lambda_handler = entrypoint(app)
