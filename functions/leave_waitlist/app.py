"""DELETE /waitlist/{entry_id}: leave the waitlist; an open offer is released (its time is free at once)."""

from clinic.api import Request, endpoint, no_content
from clinic.observability import logger
from clinic.services import waitlist


@endpoint("LeaveWaitlist", status=204, summary="Leave the waitlist")
def leave_waitlist(request: Request):
    waitlist.leave(request.path["entry_id"], request.caller)
    logger.info("waitlist left", extra={"waitlist_entry_id": request.path["entry_id"]})
    return no_content()


lambda_handler = leave_waitlist
