"""GET /doctors/{doctor_id}/time-off: time off overlapping [from, to) (at most 366 days), by start."""

from clinic.api import Request, endpoint, ok
from clinic.models.common import Page
from clinic.models.time_off import TimeOffOut, TimeOffQuery
from clinic.services import time_off


@endpoint("ListTimeOff", query=TimeOffQuery, answers=Page[TimeOffOut], summary="A doctor's time off")
def list_time_off(request: Request):
    q = request.query
    return ok(time_off.list_page(request.path["doctor_id"], q.from_, q.to, q.limit, q.next_token, request.caller))


lambda_handler = list_time_off
