"""POST /patients: register a patient (staff)."""

from clinic.api import Request, created, endpoint
from clinic.models.patients import PatientCreate, PatientOut
from clinic.observability import count, logger
from clinic.services import patients


@endpoint("RegisterPatient", body=PatientCreate, answers=PatientOut, status=201, summary="Register a patient")
def register_patient(request: Request):
    patient = patients.register(request.body)
    logger.info("patient registered", extra={"patient_id": patient["id"]})
    count("PatientRegistered")
    return created(f"/patients/{patient['id']}", patient)


lambda_handler = register_patient
