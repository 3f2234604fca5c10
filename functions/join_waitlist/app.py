"""POST /waitlist: wait for a doctor's time within a window (staff, or a patient for themself)."""

from clinic.api import Request, created, endpoint
from clinic.models.waitlist import WaitlistCreate, WaitlistEntryOut
from clinic.observability import logger
from clinic.services import waitlist


@endpoint(
    "JoinWaitlist",
    body=WaitlistCreate,
    answers=WaitlistEntryOut,
    status=201,
    summary="Join the waitlist",
    conflicts="TOO_MANY_WAITLIST_ENTRIES (the patient's entries waiting or offered are at the clinic's limit)",
    description="When bookable time inside the window appears (or is there already), the oldest fitting "
    "entry is offered it within 60 seconds: a hold lasting waitlist_offer_minutes, the entry "
    "offered, and a WaitlistOfferMade event. Confirm the hold to book it.",
)
def join_waitlist(request: Request):
    entry = waitlist.join(request.body, request.caller)
    logger.info(
        "waitlist joined",
        extra={"waitlist_entry_id": entry["id"], "doctor_id": entry["doctor_id"], "patient_id": entry["patient_id"]},
    )
    return created(f"/waitlist/{entry['id']}", entry)


lambda_handler = join_waitlist
