"""Time freed (a cancellation, a reschedule away, a hold released or expired): offer it to the doctor's
waitlist, oldest fitting entry first (clinic.services.waitlist)."""

from clinic.background import events
from clinic.services import waitlist


@events("OfferWaitlist")
def offer_freed_time(event: dict) -> None:
    waitlist.offer_freed_time(event["detail"]["doctor_id"])


lambda_handler = offer_freed_time
