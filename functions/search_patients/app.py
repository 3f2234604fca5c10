"""POST /patients/search: find patients by family-name prefix and/or birth date (staff; doctors find
only patients they have appointments with).

A POST, so that names and birth dates never appear in a URL."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Body

from clinic.api import caller, create_app, document, entrypoint, json_response
from clinic.models.common import Page
from clinic.models.patients import PatientOut, PatientSearch
from clinic.services import patients

app = create_app()


@app.post("/patients/search", summary="Search patients", tags=["patients"], responses=document(200, Page[PatientOut]),
          description="By family-name prefix (case-insensitive) and/or birth date. Staff find every match; a doctor "
                      "finds only patients who have an appointment with them, and nothing in the answer (items or "
                      "next_token) depends on the others.")
def search_patients(criteria: Annotated[PatientSearch, Body()]):
    return json_response(200, patients.search(criteria, caller(app)))


lambda_handler = entrypoint(app)
