"""The audit trail's tamper alarm: the audit table's stream, filtered to changes and removals. The
trail is append-only (functions may only PutItem, never overwriting; the table's resource policy
denies every update and delete), so any MODIFY or REMOVE is tampering — or a bug — and pages
(AuditTamperedAlarm). The immutable copy in S3 (Object Lock) still holds the original record."""

from clinic.background import stream_records
from clinic.observability import count, logger


@stream_records("AuditTamperAlarm")
def audit_record_changed(record: dict) -> None:
    name = record.get("eventName")
    if name not in ("MODIFY", "REMOVE"):
        return  # an append: what the trail is for
    keys = record.get("dynamodb", {}).get("Keys", {})
    logger.error(
        "an audit record was modified or removed",
        extra={
            "event_name": name,
            "subject": keys.get("subject", {}).get("S", ""),
            "at": keys.get("at", {}).get("S", ""),
        },
    )
    count("AuditTampered")


lambda_handler = audit_record_changed
