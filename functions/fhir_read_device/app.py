"""GET /fhir/Device/{device_id}: a piece of equipment as a FHIR Device (location: its site)."""

from clinic.api import Request
from clinic.fhir.edge import answer, fhir_endpoint
from clinic.fhir.models import FhirDevice
from clinic.services import fhir


@fhir_endpoint("FhirReadDevice", answers=FhirDevice, summary="Read a piece of equipment (FHIR Device)")
def fhir_read_device(request: Request):
    return answer(fhir.read_device(request.path["device_id"]))


lambda_handler = fhir_read_device
