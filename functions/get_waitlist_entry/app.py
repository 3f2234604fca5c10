"""GET /waitlist/{entry_id}: read a waitlist entry (and its offer, if one is open)."""

from clinic.api import Request, endpoint, ok
from clinic.models.waitlist import WaitlistEntryOut
from clinic.services import waitlist


@endpoint("GetWaitlistEntry", answers=WaitlistEntryOut, summary="Read a waitlist entry")
def get_waitlist_entry(request: Request):
    return ok(waitlist.get(request.path["entry_id"], request.caller))


lambda_handler = get_waitlist_entry
