"""POST /appointment-series: book a weekly series, all or nothing (staff, or a patient for themself)."""

from clinic.api import Request, created, endpoint
from clinic.models.appointments import SeriesCreate, SeriesOut
from clinic.observability import logger
from clinic.services import appointments


@endpoint(
    "BookSeries",
    body=SeriesCreate,
    answers=SeriesOut,
    status=201,
    summary="Book a weekly series",
    conflicts="SLOT_UNAVAILABLE, PATIENT_UNAVAILABLE, RESOURCE_UNAVAILABLE, TOO_MANY_APPOINTMENTS or "
    "IDEMPOTENCY_IN_PROGRESS: the lowest occurrence that cannot be booked, whatever the reason",
    description="All or nothing, in one transaction: if any occurrence cannot be booked, nothing is, and the "
    "answer is the first failing occurrence's error with errors[].field = occurrences[i].start. "
    "Occurrences keep the first one's local wall-clock time across daylight-saving changes.",
)
def book_series(request: Request):
    booked = appointments.book_series(request.body, request.caller)
    logger.info(
        "series booked",
        extra={
            "series_id": booked["id"],
            "occurrences": len(booked["appointments"]),
            "doctor_id": str(request.body.doctor_id),
            "patient_id": str(request.body.patient_id),
        },
    )
    return created(f"/appointment-series/{booked['id']}", booked)


lambda_handler = book_series
