"""GET /fhir/Location/{location_id}: a site (physicalType si) or a room (physicalType ro, partOf its site)."""

from clinic.api import Request
from clinic.fhir.edge import answer, fhir_endpoint
from clinic.fhir.models import FhirLocation
from clinic.services import fhir


@fhir_endpoint("FhirReadLocation", answers=FhirLocation, summary="Read a site or a room (FHIR Location)")
def fhir_read_location(request: Request):
    return answer(fhir.read_location(request.path["location_id"]))


lambda_handler = fhir_read_location
