"""GET /doctors: list doctors, optionally of one specialty (any authenticated user)."""

from clinic.api import Request, endpoint, ok
from clinic.models.common import Page
from clinic.models.doctors import DoctorListQuery, DoctorOut
from clinic.services import doctors


@endpoint("ListDoctors", query=DoctorListQuery, answers=Page[DoctorOut], summary="List doctors")
def list_doctors(request: Request):
    q = request.query
    return ok(doctors.list_page(q.limit, q.next_token, q.specialty))


lambda_handler = list_doctors
