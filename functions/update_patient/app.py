"""PATCH /patients/{patient_id}: partial update of a patient."""

from clinic.api import Request, endpoint, ok
from clinic.models.patients import PatientOut, PatientUpdate
from clinic.observability import count, logger
from clinic.services import patients


@endpoint("UpdatePatient", body=PatientUpdate, answers=PatientOut, summary="Update a patient")
def update_patient(request: Request):
    patient = patients.update(request.path["patient_id"], request.body, request.caller)
    logger.info("patient updated", extra={"patient_id": patient["id"], "fields": sorted(request.body.model_fields_set)})
    count("PatientUpdated")
    return ok(patient)


lambda_handler = update_patient
