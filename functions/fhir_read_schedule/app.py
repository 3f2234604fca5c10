"""GET /fhir/Schedule/{doctor_id}: a doctor's calendar as a FHIR Schedule (one per doctor, the doctor's id)."""

from clinic.api import Request
from clinic.fhir.edge import answer, fhir_endpoint
from clinic.fhir.models import FhirSchedule
from clinic.services import fhir


@fhir_endpoint("FhirReadSchedule", answers=FhirSchedule, summary="Read a doctor's Schedule (FHIR Schedule)")
def fhir_read_schedule(request: Request):
    return answer(fhir.read_schedule(request.path["doctor_id"]))


lambda_handler = fhir_read_schedule
