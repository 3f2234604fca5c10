"""Is storage answering? One cheap keyed read per business table (not a control-plane call), of a
key that never exists: a miss is a healthy answer, and it reads no data."""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError

from clinic.config import settings
from clinic.data.dynamo import table

_ID_PROBE = {"id": "00000000-0000-4000-8000-000000000000"}
_LOCK_PROBE = {"owner": "health#probe", "hour": "0000-00-00T00"}


def probe() -> dict[str, str]:
    """Table → "ok" or "failed: <error code>", for every business table this function names."""
    config = settings()
    probes = (
        ("patients", config.patients_table, _ID_PROBE),
        ("doctors", config.doctors_table, _ID_PROBE),
        ("appointments", config.appointments_table, _ID_PROBE),
        ("slot_locks", config.slot_locks_table, _LOCK_PROBE),
    )
    checks: dict[str, str] = {}
    for name, table_name, key in probes:
        if not table_name:
            continue
        try:
            table(table_name).get_item(Key=key)
            checks[name] = "ok"
        except (ClientError, BotoCoreError) as error:
            code = error.response["Error"]["Code"] if isinstance(error, ClientError) else type(error).__name__
            checks[name] = f"failed: {code}"
    return checks
