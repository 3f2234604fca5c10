"""GET /locations: list the locations by name (any authenticated user)."""

from clinic.api import Request, endpoint, ok
from clinic.models.common import Page
from clinic.models.locations import LocationListQuery, LocationOut
from clinic.services import locations


@endpoint("ListLocations", query=LocationListQuery, answers=Page[LocationOut], summary="List locations by name")
def list_locations(request: Request):
    q = request.query
    return ok(locations.list_page(q.limit, q.next_token))


lambda_handler = list_locations
