"""GET /doctors/{doctor_id}/availability: free bookable times in [from, to) (at most 14 days): grid
slots, or with ?appointment_type= starts of that type's duration whose buffers are free too."""

from clinic.api import Request, endpoint, ok
from clinic.models.appointments import Availability, AvailabilityQuery
from clinic.services import appointments


@endpoint("DoctorAvailability", query=AvailabilityQuery, answers=Availability, summary="A doctor's free slots")
def doctor_availability(request: Request):
    q = request.query
    return ok(appointments.availability(request.path["doctor_id"], q.from_, q.to, q.appointment_type, request.caller))


lambda_handler = doctor_availability
