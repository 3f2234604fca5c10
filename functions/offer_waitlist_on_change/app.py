"""A new or requeued waitlist entry (its time may be free already), or a doctor's calendar change
(time off deleted, hours widened): offer the doctor's free time to their waitlist."""

import os

from clinic.background import stream_records, table_of
from clinic.events import plain_image
from clinic.services import waitlist


@stream_records("OfferWaitlistOnChange")
def offer_on_change(record: dict) -> None:
    new = plain_image((record.get("dynamodb") or {}).get("NewImage"))
    if table_of(record) == os.environ.get("DOCTORS_TABLE"):
        waitlist.offer_freed_time(new["id"])
    elif new.get("status") == "waiting":
        waitlist.offer_freed_time(new["doctor_id"])


lambda_handler = offer_on_change
