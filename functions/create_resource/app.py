"""POST /resources: create a room or a piece of equipment at an active location (staff)."""

from clinic.api import Request, created, endpoint
from clinic.models.resources import ResourceCreate, ResourceOut
from clinic.observability import count, logger
from clinic.services import resources


@endpoint("CreateResource", body=ResourceCreate, answers=ResourceOut, status=201, summary="Create a resource")
def create_resource(request: Request):
    resource = resources.create(request.body)
    logger.info("resource created", extra={"resource_id": resource["id"], "location_id": resource["location_id"]})
    count("ResourceCreated")
    return created(f"/resources/{resource['id']}", resource)


lambda_handler = create_resource
