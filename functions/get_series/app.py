"""GET /appointment-series/{series_id}: a series and its appointments."""

from clinic.api import Request, endpoint, ok
from clinic.models.appointments import SeriesOut
from clinic.services import appointments


@endpoint("GetSeries", answers=SeriesOut, summary="Read a series")
def get_series(request: Request):
    return ok(appointments.get_series(request.path["series_id"], request.caller))


lambda_handler = get_series
