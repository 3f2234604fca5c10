"""Domain events from committed changes: the appointments', holds' and waitlist's streams, each record
read as its events (clinic.events) and put on the bus in order. A record whose events the bus refuses
fails, so the stream retries from it — at least once, never a change that did not commit."""

import os

from clinic import events
from clinic.background import stream_records, table_of
from clinic.data import event_bus
from clinic.observability import count

_KINDS = {"APPOINTMENTS_TABLE": "appointment", "HOLDS_TABLE": "hold", "WAITLIST_TABLE": "waitlist"}


def kind_of(record: dict) -> str:
    """Which kind of record a stream record is, by the table it comes from."""
    table = table_of(record)
    for variable, kind in _KINDS.items():
        if os.environ.get(variable) == table:
            return kind
    raise LookupError("a record from a stream this function does not read")


@stream_records("PublishEvents")
def publish(record: dict) -> None:
    found = events.from_record(kind_of(record), record)
    if found:
        event_bus.put(found)
        for event in found:
            count("EventPublished", detail_type=event["detail-type"])


lambda_handler = publish
