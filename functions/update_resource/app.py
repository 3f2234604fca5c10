"""PATCH /resources/{resource_id}: rename or (de)activate a room or piece of equipment (staff)."""

from clinic.api import Request, endpoint, ok
from clinic.models.resources import ResourceOut, ResourceUpdate
from clinic.observability import count, logger
from clinic.services import resources


@endpoint("UpdateResource", body=ResourceUpdate, answers=ResourceOut, summary="Update a resource")
def update_resource(request: Request):
    resource = resources.update(request.path["resource_id"], request.body)
    logger.info(
        "resource updated", extra={"resource_id": resource["id"], "fields": sorted(request.body.model_fields_set)}
    )
    count("ResourceUpdated")
    return ok(resource)


lambda_handler = update_resource
