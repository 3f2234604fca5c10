"""DELETE /holds/{hold_id}: give the held time back at once."""

from clinic.api import Request, endpoint, no_content
from clinic.observability import logger
from clinic.services import holds


@endpoint("ReleaseHold", status=204, summary="Release a hold", conflicts="INVALID_TRANSITION (confirmed)")
def release_hold(request: Request):
    holds.release(request.path["hold_id"], request.caller)
    logger.info("hold released", extra={"hold_id": request.path["hold_id"]})
    return no_content()


lambda_handler = release_hold
