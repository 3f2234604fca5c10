"""DELETE /doctors/{doctor_id}/time-off/{time_off_id}: the time is bookable again at once."""

from clinic.api import Request, endpoint, no_content
from clinic.observability import logger
from clinic.services import time_off


@endpoint("DeleteTimeOff", status=204, summary="Remove time off")
def delete_time_off(request: Request):
    time_off.delete(request.path["doctor_id"], request.path["time_off_id"], request.caller)
    logger.info(
        "time off deleted", extra={"doctor_id": request.path["doctor_id"], "time_off_id": request.path["time_off_id"]}
    )
    return no_content()


lambda_handler = delete_time_off
