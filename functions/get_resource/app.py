"""GET /resources/{resource_id}: read one room or piece of equipment (any authenticated user)."""

from clinic.api import Request, endpoint, ok
from clinic.models.resources import ResourceOut
from clinic.services import resources


@endpoint("GetResource", answers=ResourceOut, summary="Read a resource")
def get_resource(request: Request):
    return ok(resources.get(request.path["resource_id"]))


lambda_handler = get_resource
