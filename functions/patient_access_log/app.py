"""GET /patients/{patient_id}/access-log: who read or changed this patient's data, and when
(newest first, paginated). Staff only."""

from typing import Annotated, Optional

from aws_lambda_powertools.event_handler.openapi.params import Query

from clinic.api import create_app, document, entrypoint, json_response
from clinic.models.audit import AccessRecord
from clinic.models.common import DEFAULT_LIMIT, MAX_LIMIT, Page
from clinic.services import access_log

app = create_app()


@app.get("/patients/<patient_id>/access-log", summary="A patient's access history (audit trail)", tags=["patients"],
         description="Every read and write of this patient's data, allowed or denied: who (sub and role), what "
                     "(action and record ids), when, the request id and the outcome. Newest first. Staff only.",
         responses=document(200, Page[AccessRecord]))
def patient_access_log(
    patient_id: str,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    next_token: Annotated[Optional[str], Query(min_length=1, max_length=2048)] = None,
):
    return json_response(200, access_log.history(patient_id, limit, next_token))


lambda_handler = entrypoint(app)
