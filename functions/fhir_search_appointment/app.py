"""GET /fhir/Appointment?patient=Patient/{id} or ?practitioner=Practitioner/{id}, &date=ge…&date=lt…,
&_count: a searchset Bundle of appointments by start, paged by link next (an opaque token)."""

from clinic.api import Request
from clinic.fhir.edge import fhir_endpoint, searched
from clinic.fhir.models import PREFER, AppointmentSearch, FhirBundle
from clinic.services import fhir


@fhir_endpoint(
    "FhirSearchAppointment",
    query=AppointmentSearch,
    answers=FhirBundle,
    summary="Search appointments by patient or practitioner",
    description="By patient (staff, the patient): every status, like "
    "GET /patients/{patient_id}/appointments. By practitioner (staff, the doctor): not "
    "cancelled, date bounds at most 31 days apart, like GET /doctors/{doctor_id}/schedule. By "
    f"start; _count per page; link next carries an opaque token bound to the query. {PREFER}",
)
def fhir_search_appointment(request: Request):
    return searched(
        request,
        "Appointment",
        fhir.SEARCHES["Appointment"],
        lambda found: fhir.search_appointments(found, request.caller),
    )


lambda_handler = fhir_search_appointment
