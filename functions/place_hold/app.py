"""POST /holds: keep a time for a patient while they confirm (staff, or a patient for themself)."""

from clinic.api import Request, created, endpoint
from clinic.models.holds import HoldCreate, HoldOut
from clinic.observability import logger
from clinic.services import holds


@endpoint(
    "PlaceHold",
    body=HoldCreate,
    answers=HoldOut,
    status=201,
    summary="Hold a time",
    conflicts="SLOT_UNAVAILABLE, PATIENT_UNAVAILABLE, RESOURCE_UNAVAILABLE, TOO_MANY_APPOINTMENTS or "
    "TOO_MANY_HOLDS (the patient's live "
    "holds are at the clinic's limit)",
    description="The same rules and codes as booking. The time is unavailable to every other booking, hold "
    "and reschedule until the hold is released or expires (expires_at = now + hold_minutes), "
    "and free again the instant it expires.",
)
def place_hold(request: Request):
    hold = holds.place(request.body, request.caller)
    logger.info(
        "hold placed", extra={"hold_id": hold["id"], "doctor_id": hold["doctor_id"], "patient_id": hold["patient_id"]}
    )
    return created(f"/holds/{hold['id']}", hold)


lambda_handler = place_hold
