"""POST /patients/search: find patients by family-name prefix and/or birth date (staff; doctors find
only their own patients). A POST, so that names and birth dates never appear in a URL."""

from clinic.api import Request, endpoint, ok
from clinic.models.common import Page
from clinic.models.patients import PatientOut, PatientSearch
from clinic.services import patients


@endpoint(
    "SearchPatients",
    body=PatientSearch,
    answers=Page[PatientOut],
    summary="Search patients",
    description="By family-name prefix (case-insensitive) and/or birth date. Staff find every match; a doctor "
    "finds only their own patients, and nothing in the answer (items or next_token) depends on "
    "the others.",
)
def search_patients(request: Request):
    return ok(patients.search(request.body, request.caller))


lambda_handler = search_patients
