"""GET /patients/{patient_id}: read one patient."""

from clinic.api import Request, endpoint, ok
from clinic.models.patients import PatientOut
from clinic.services import patients


@endpoint("GetPatient", answers=PatientOut, summary="Read a patient")
def get_patient(request: Request):
    return ok(patients.get(request.path["patient_id"], request.caller))


lambda_handler = get_patient
