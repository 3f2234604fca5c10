"""GET /patients/{patient_id}/appointments: a patient's appointments (every status unless
?status=), starting in [from, to), by start, paginated."""

from clinic.api import Request, endpoint, ok
from clinic.models.appointments import AppointmentOut, PatientAppointmentsQuery
from clinic.models.common import Page
from clinic.services import appointments


@endpoint(
    "PatientAppointments",
    query=PatientAppointmentsQuery,
    answers=Page[AppointmentOut],
    summary="A patient's appointments",
)
def patient_appointments(request: Request):
    q = request.query
    return ok(
        appointments.patient_appointments(
            request.path["patient_id"], q.from_, q.to, q.status, q.limit, q.next_token, request.caller
        )
    )


lambda_handler = patient_appointments
