"""GET /appointments/{appointment_id}: read one appointment."""

from clinic.api import Request, endpoint, ok
from clinic.models.appointments import AppointmentOut
from clinic.services import appointments


@endpoint("GetAppointment", answers=AppointmentOut, summary="Read an appointment")
def get_appointment(request: Request):
    return ok(appointments.get(request.path["appointment_id"], request.caller))


lambda_handler = get_appointment
