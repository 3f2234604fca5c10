"""GET /fhir/Location: a searchset Bundle of the sites, then the rooms (by name); ?partof=Location/{id}: that
site's rooms. Paged by link next."""

from clinic.api import Request
from clinic.fhir.edge import fhir_endpoint, searched
from clinic.fhir.models import PREFER, FhirBundle, LocationSearch
from clinic.services import fhir


@fhir_endpoint(
    "FhirSearchLocation",
    query=LocationSearch,
    answers=FhirBundle,
    summary="Search sites and rooms (FHIR Location)",
    description="Every site, then every room, by name (partof: one site's rooms); _count per page, link next "
    f"for the rest. {PREFER}",
)
def fhir_search_location(request: Request):
    return searched(request, "Location", fhir.SEARCHES["Location"], fhir.search_locations)


lambda_handler = fhir_search_location
