"""GET /fhir/Appointment/{appointment_id}: an appointment as a FHIR Appointment (access and audit as
GET /appointments/{id})."""

from clinic.api import Request
from clinic.fhir.edge import answer, fhir_endpoint
from clinic.fhir.models import FhirAppointment
from clinic.services import fhir


@fhir_endpoint("FhirReadAppointment", answers=FhirAppointment, summary="Read an appointment (FHIR Appointment)")
def fhir_read_appointment(request: Request):
    return answer(fhir.read_appointment(request.path["appointment_id"], request.caller))


lambda_handler = fhir_read_appointment
