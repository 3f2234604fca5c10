"""A hold's expiry schedule fired: record it expired and free what it still holds (HoldExpired follows
from the stream). Fired early (clock skew)? Fail, so the scheduler's retry comes after the time."""

from clinic.background import events
from clinic.services import holds


class NotDueYet(Exception):
    pass


@events("ExpireHold")
def expire_hold(event: dict) -> None:
    if not holds.expire(event["hold_id"]):
        raise NotDueYet()


lambda_handler = expire_hold
