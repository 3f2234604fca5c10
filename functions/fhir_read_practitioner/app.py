"""GET /fhir/Practitioner/{doctor_id}: a doctor as a FHIR Practitioner."""

from clinic.api import Request
from clinic.fhir.edge import answer, fhir_endpoint
from clinic.fhir.models import FhirPractitioner
from clinic.services import fhir


@fhir_endpoint("FhirReadPractitioner", answers=FhirPractitioner, summary="Read a doctor (FHIR Practitioner)")
def fhir_read_practitioner(request: Request):
    return answer(fhir.read_practitioner(request.path["doctor_id"]))


lambda_handler = fhir_read_practitioner
