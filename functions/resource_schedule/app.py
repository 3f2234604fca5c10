"""GET /resources/{resource_id}/schedule: the appointments taking a room or a device, starting in
[from, to) (at most 31 days), by start, paginated (staff)."""

from clinic.api import Request, endpoint, ok
from clinic.models.appointments import AppointmentOut
from clinic.models.common import Page, PagedWindowQuery
from clinic.services import appointments


@endpoint("ResourceSchedule", query=PagedWindowQuery, answers=Page[AppointmentOut], summary="A resource's schedule")
def resource_schedule(request: Request):
    q = request.query
    return ok(appointments.resource_schedule(request.path["resource_id"], q.from_, q.to, q.limit, q.next_token))


lambda_handler = resource_schedule
