"""GET /doctors/{doctor_id}/schedule: a doctor's non-cancelled appointments starting in [from, to)
(at most 31 days), by start, paginated."""

from clinic.api import Request, endpoint, ok
from clinic.models.appointments import AppointmentOut
from clinic.models.common import Page, PagedWindowQuery
from clinic.services import appointments


@endpoint("DoctorSchedule", query=PagedWindowQuery, answers=Page[AppointmentOut], summary="A doctor's schedule")
def doctor_schedule(request: Request):
    q = request.query
    return ok(
        appointments.doctor_schedule(request.path["doctor_id"], q.from_, q.to, q.limit, q.next_token, request.caller)
    )


lambda_handler = doctor_schedule
