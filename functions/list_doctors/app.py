"""GET /doctors: list doctors, optionally of one specialty and/or working at one location (any authenticated user)."""

from clinic.api import Request, endpoint, ok
from clinic.models.common import Page
from clinic.models.doctors import DoctorListQuery, DoctorOut
from clinic.services import doctors


@endpoint("ListDoctors", query=DoctorListQuery, answers=Page[DoctorOut], summary="List doctors")
def list_doctors(request: Request):
    q = request.query
    location_id = str(q.location_id) if q.location_id is not None else None
    return ok(doctors.list_page(q.limit, q.next_token, q.specialty, location_id))


lambda_handler = list_doctors
