"""GET /fhir/Slot?schedule=Schedule/{id}&start=ge…&start=lt…: a searchset Bundle of the doctor's free Slots,
computed like GET /doctors/{id}/availability (span at most 14 days)."""

from clinic.api import Request
from clinic.fhir.edge import fhir_endpoint, searched
from clinic.fhir.models import PREFER, FhirBundle, SlotSearch
from clinic.services import fhir


@fhir_endpoint(
    "FhirSearchSlot",
    query=SlotSearch,
    answers=FhirBundle,
    summary="Search free Slots",
    description="A searchset Bundle of a doctor's free Slots (status free) starting between the start "
    "bounds (at most 14 days apart), by start, _count per page, link next for the rest; "
    f"computed like GET /doctors/{{doctor_id}}/availability. {PREFER}",
)
def fhir_search_slot(request: Request):
    return searched(request, "Slot", fhir.SEARCHES["Slot"], lambda found: fhir.search_slots(found, request.caller))


lambda_handler = fhir_search_slot
