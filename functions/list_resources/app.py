"""GET /resources: list rooms and equipment by name, of one location and/or kind (any authenticated user)."""

from clinic.api import Request, endpoint, ok
from clinic.models.common import Page
from clinic.models.resources import ResourceListQuery, ResourceOut
from clinic.services import resources


@endpoint("ListResources", query=ResourceListQuery, answers=Page[ResourceOut], summary="List resources by name")
def list_resources(request: Request):
    q = request.query
    location_id = str(q.location_id) if q.location_id is not None else None
    return ok(resources.list_page(q.limit, q.next_token, location_id, q.kind))


lambda_handler = list_resources
