"""GET /patients: list patients, paginated (staff)."""

from clinic.api import Request, endpoint, ok
from clinic.models.common import Page
from clinic.models.patients import PatientListQuery, PatientOut
from clinic.services import patients


@endpoint("ListPatients", query=PatientListQuery, answers=Page[PatientOut], summary="List patients")
def list_patients(request: Request):
    return ok(patients.list_page(request.query.limit, request.query.next_token))


lambda_handler = list_patients
