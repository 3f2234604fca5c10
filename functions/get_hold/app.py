"""GET /holds/{hold_id}: read a hold (its status is expired once expires_at has passed)."""

from clinic.api import Request, endpoint, ok
from clinic.models.holds import HoldOut
from clinic.services import holds


@endpoint("GetHold", answers=HoldOut, summary="Read a hold")
def get_hold(request: Request):
    return ok(holds.get(request.path["hold_id"], request.caller))


lambda_handler = get_hold
