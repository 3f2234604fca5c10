"""GET /fhir/Patient/{patient_id}: a patient as a FHIR Patient (access and audit as GET /patients/{id})."""

from clinic.api import Request
from clinic.fhir.edge import answer, fhir_endpoint
from clinic.fhir.models import FhirPatient
from clinic.services import fhir


@fhir_endpoint("FhirReadPatient", answers=FhirPatient, summary="Read a patient (FHIR Patient)")
def fhir_read_patient(request: Request):
    return answer(fhir.read_patient(request.path["patient_id"], request.caller))


lambda_handler = fhir_read_patient
