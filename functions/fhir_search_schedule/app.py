"""GET /fhir/Schedule?actor=Practitioner/{id}: a searchset Bundle with that doctor's Schedule (or none)."""

from clinic.api import Request
from clinic.fhir.edge import fhir_endpoint, searched
from clinic.fhir.models import PREFER, FhirBundle, ScheduleSearch
from clinic.services import fhir


@fhir_endpoint(
    "FhirSearchSchedule",
    query=ScheduleSearch,
    answers=FhirBundle,
    summary="Search Schedules by actor",
    description=f"A searchset Bundle with the Schedule of the doctor named by actor, or none. {PREFER}",
)
def fhir_search_schedule(request: Request):
    return searched(request, "Schedule", fhir.SEARCHES["Schedule"], fhir.search_schedules)


lambda_handler = fhir_search_schedule
