"""POST /holds/{hold_id}/confirm: book exactly the held interval, atomically."""

from clinic.api import Request, created, endpoint
from clinic.models.appointments import AppointmentOut
from clinic.models.holds import HoldConfirm
from clinic.observability import logger
from clinic.services import holds


@endpoint(
    "ConfirmHold",
    body=HoldConfirm,
    answers=AppointmentOut,
    status=201,
    summary="Confirm a hold",
    conflicts="HOLD_EXPIRED (after expires_at), INVALID_TRANSITION (released or confirmed), "
    "TOO_MANY_APPOINTMENTS or IDEMPOTENCY_IN_PROGRESS",
)
def confirm_hold(request: Request):
    appointment = holds.confirm(request.path["hold_id"], request.body, request.caller)
    logger.info("hold confirmed", extra={"hold_id": request.path["hold_id"], "appointment_id": appointment["id"]})
    return created(f"/appointments/{appointment['id']}", appointment)


lambda_handler = confirm_hold
