"""GET /availability: the earliest free slots across doctors — every matching active doctor's free
bookable slots in [from, to) (at most 14 days), by start then doctor, paginated; exactly what each
doctor's own availability offers (clinic.services.availability)."""

from clinic.api import Request, endpoint, ok
from clinic.models.appointments import EarliestPage, EarliestQuery
from clinic.services import availability


@endpoint(
    "EarliestAvailability",
    query=EarliestQuery,
    answers=EarliestPage,
    summary="The earliest free slots across doctors",
    description="By specialty, location and appointment type: each slot names its doctor, location and type.",
)
def earliest_availability(request: Request):
    q = request.query
    return ok(
        availability.search(
            q.from_,
            q.to,
            specialty=q.specialty,
            location_id=str(q.location_id) if q.location_id else None,
            type_code=q.appointment_type,
            limit=q.limit,
            next_token=q.next_token,
            who=request.caller,
        )
    )


lambda_handler = earliest_availability
