"""GET /locations/{location_id}/day?date=: the front desk's day sheet of a location (staff): doctors
working there, active rooms and equipment, and the day's appointments with their patients."""

from clinic.api import Request, endpoint, ok
from clinic.models.day_sheet import DayQuery, DaySheet
from clinic.services import day_sheet


@endpoint("LocationDay", query=DayQuery, answers=DaySheet, summary="A location's day sheet")
def location_day(request: Request):
    return ok(day_sheet.day_sheet(request.path["location_id"], request.query.date))


lambda_handler = location_day
