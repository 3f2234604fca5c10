"""GET /locations/{location_id}: read one location (any authenticated user)."""

from clinic.api import Request, endpoint, ok
from clinic.models.locations import LocationOut
from clinic.services import locations


@endpoint("GetLocation", answers=LocationOut, summary="Read a location")
def get_location(request: Request):
    return ok(locations.get(request.path["location_id"]))


lambda_handler = get_location
