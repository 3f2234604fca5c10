"""POST /doctors/{doctor_id}/time-off: the doctor is away; answers the booked appointments it overlaps."""

from clinic.api import Request, created, endpoint
from clinic.models.time_off import TimeOffCreate, TimeOffCreated
from clinic.observability import logger
from clinic.services import time_off


@endpoint(
    "CreateTimeOff",
    body=TimeOffCreate,
    answers=TimeOffCreated,
    status=201,
    summary="Add time off",
    description="Availability never offers it, and booking, holding or rescheduling into it is 422 DOCTOR_AWAY. "
    "affected_appointments lists the doctor's booked appointments it overlaps: they are not "
    "cancelled; staff move them.",
)
def create_time_off(request: Request):
    doctor_id = request.path["doctor_id"]
    entry = time_off.create(doctor_id, request.body, request.caller)
    logger.info(
        "time off created",
        extra={
            "doctor_id": entry["doctor_id"],
            "time_off_id": entry["id"],
            "affected": len(entry["affected_appointments"]),
        },
    )
    return created(f"/doctors/{entry['doctor_id']}/time-off/{entry['id']}", entry)


lambda_handler = create_time_off
