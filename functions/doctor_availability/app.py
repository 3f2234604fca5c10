"""GET /doctors/{doctor_id}/availability: free bookable grid slots in [from, to) (at most 14 days)."""

from clinic.api import Request, endpoint, ok
from clinic.models.appointments import Availability, AvailabilityQuery
from clinic.services import appointments


@endpoint("DoctorAvailability", query=AvailabilityQuery, answers=Availability, summary="A doctor's free slots")
def doctor_availability(request: Request):
    return ok(appointments.availability(request.path["doctor_id"], request.query.from_, request.query.to))


lambda_handler = doctor_availability
