"""PATCH /patients/{patient_id}: partial update of a patient."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Body

from clinic.api import caller, create_app, document, entrypoint, json_response
from clinic.models.patients import PatientOut, PatientUpdate
from clinic.observability import count, logger
from clinic.services import patients

app = create_app()


@app.patch("/patients/<patient_id>", summary="Update a patient", tags=["patients"], responses=document(200, PatientOut))
def update_patient(patient_id: str, patch: Annotated[PatientUpdate, Body()]):
    patient = patients.update(patient_id, patch, caller(app))
    logger.info("patient updated", extra={"patient_id": patient["id"], "fields": sorted(patch.model_fields_set)})
    count("PatientUpdated")
    return json_response(200, patient)


lambda_handler = entrypoint(app)
