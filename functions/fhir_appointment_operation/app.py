"""POST /fhir/Appointment/$find, $hold and $book (IHE ITI Scheduling): one function, as API Gateway (REST)
routes them — the POST of /fhir/Appointment/{appointment_id}, whose path value names the operation
(clinic.services.fhir_operations)."""

from clinic.api import Request
from clinic.fhir import search
from clinic.fhir.edge import answer, base_url, fhir_endpoint
from clinic.fhir.models import FhirOperationAnswer, ParametersIn
from clinic.services import fhir_operations as operations


@fhir_endpoint(
    "FhirAppointmentOperation",
    body=ParametersIn,
    answers=FhirOperationAnswer,
    summary="Find, hold and book appointments: $find, $hold, $book",
    description="The path value is the operation. $find: Parameters start, end (required), specialty, location, "
    "practitioner, visit-type, _count (and _page_token, from link next) → a searchset Bundle of proposed "
    "Appointments, one per free slot as GET /availability finds them, with total. $hold: Parameters appointment "
    "(a proposed Appointment with its Patient participant) → the pending Appointment (id = the hold's). $book: "
    "Parameters appointment (a pending one, a proposed one with its Patient, or a booked one sent back cancelled "
    "with a cancelationReason) → a collection Bundle holding the Appointment. $hold and $book take an "
    "Idempotency-Key. Another path value: 404.",
    conflicts="SLOT_UNAVAILABLE, PATIENT_UNAVAILABLE, RESOURCE_UNAVAILABLE, TOO_MANY_APPOINTMENTS, TOO_MANY_HOLDS, "
    "HOLD_EXPIRED, INVALID_TRANSITION or TOO_LATE_TO_CHANGE (issue code conflict)",
    keyed_when=lambda request: operations.takes_a_key(request.path.get("appointment_id", "")),
    path_values={"appointment_id": operations.OPERATIONS},
)
def fhir_appointment_operation(request: Request):
    operation = operations.operation_of(request.path.get("appointment_id", ""))
    base = base_url(request.event)
    if operation == operations.FIND:
        page_token = (request.event.get("queryStringParameters") or {}).get("_page_token")
        strict = search.strict_handling(request.header("Prefer"))
        return answer(operations.find(request.body, page_token, request.caller, base, strict))
    if operation == operations.HOLD:
        return answer(operations.hold(request.body, request.caller))
    return answer(operations.book(request.body, request.caller, base))


lambda_handler = fhir_appointment_operation
