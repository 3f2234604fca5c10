"""POST /locations: create a location (staff)."""

from clinic.api import Request, created, endpoint
from clinic.models.locations import LocationCreate, LocationOut
from clinic.observability import count, logger
from clinic.services import locations


@endpoint("CreateLocation", body=LocationCreate, answers=LocationOut, status=201, summary="Create a location")
def create_location(request: Request):
    location = locations.create(request.body)
    logger.info("location created", extra={"location_id": location["id"]})
    count("LocationCreated")
    return created(f"/locations/{location['id']}", location)


lambda_handler = create_location
