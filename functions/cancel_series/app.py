"""POST /appointment-series/{series_id}/cancel: cancel every occurrence still booked and not yet
started, atomically."""

from clinic.api import Request, endpoint, ok
from clinic.models.appointments import CancelRequest, SeriesOut
from clinic.observability import logger
from clinic.services import appointments


@endpoint(
    "CancelSeries",
    body=CancelRequest,
    answers=SeriesOut,
    summary="Cancel the rest of a series",
    conflicts="TOO_LATE_TO_CHANGE or IDEMPOTENCY_IN_PROGRESS",
)
def cancel_series(request: Request):
    series = appointments.cancel_series(request.path["series_id"], request.body, request.caller)
    logger.info("series cancelled", extra={"series_id": series["id"]})
    return ok(series)


lambda_handler = cancel_series
