"""PATCH /locations/{location_id}: partial update of a location's name, address, phone or active (staff)."""

from clinic.api import Request, endpoint, ok
from clinic.models.locations import LocationOut, LocationUpdate
from clinic.observability import count, logger
from clinic.services import locations


@endpoint("UpdateLocation", body=LocationUpdate, answers=LocationOut, summary="Update a location")
def update_location(request: Request):
    location = locations.update(request.path["location_id"], request.body)
    logger.info(
        "location updated", extra={"location_id": location["id"], "fields": sorted(request.body.model_fields_set)}
    )
    count("LocationUpdated")
    return ok(location)


lambda_handler = update_location
