"""GET /patients/{patient_id}/waitlist: the patient's waitlist entries, paginated."""

from clinic.api import Request, endpoint, ok
from clinic.models.common import Page
from clinic.models.waitlist import PatientWaitlistQuery, WaitlistEntryOut
from clinic.services import waitlist


@endpoint(
    "PatientWaitlist",
    query=PatientWaitlistQuery,
    answers=Page[WaitlistEntryOut],
    summary="A patient's waitlist entries",
)
def patient_waitlist(request: Request):
    q = request.query
    return ok(waitlist.patient_entries(request.path["patient_id"], q.limit, q.next_token, request.caller))


lambda_handler = patient_waitlist
