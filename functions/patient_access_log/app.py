"""GET /patients/{patient_id}/access-log: who read or changed this patient's data, and when
(newest first, paginated). Staff only."""

from clinic.api import Request, endpoint, ok
from clinic.models.audit import AccessLogQuery, AccessRecord
from clinic.models.common import Page
from clinic.services import access_log


@endpoint(
    "PatientAccessLog",
    query=AccessLogQuery,
    answers=Page[AccessRecord],
    summary="A patient's access history (audit trail)",
    description="Every read and write of this patient's data, allowed or denied: who (sub and role), what "
    "(action and record ids), when, the request id and the outcome. Newest first. Staff only.",
)
def patient_access_log(request: Request):
    return ok(access_log.history(request.path["patient_id"], request.query.limit, request.query.next_token))


lambda_handler = patient_access_log
