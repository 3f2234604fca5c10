"""Health: does storage answer? One cheap keyed read per table (not a control-plane call)."""

from __future__ import annotations

import time
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from clinic.config import settings
from clinic.data.dynamo import table

# Keys of records that never exist: a miss is a healthy answer, and it reads no data.
_ID_PROBE = {"id": "00000000-0000-4000-8000-000000000000"}
_LOCK_PROBE = {"owner": "health#probe", "hour": "0000-00-00T00"}


def check() -> dict[str, Any]:
    config = settings()
    probes = (("patients", config.patients_table, _ID_PROBE), ("doctors", config.doctors_table, _ID_PROBE),
              ("appointments", config.appointments_table, _ID_PROBE),
              ("slot_locks", config.slot_locks_table, _LOCK_PROBE))
    checks: dict[str, str] = {}
    started = time.perf_counter()
    for name, table_name, key in probes:
        if not table_name:
            continue
        try:
            table(table_name).get_item(Key=key)
            checks[name] = "ok"
        except (ClientError, BotoCoreError) as error:
            code = error.response["Error"]["Code"] if isinstance(error, ClientError) else type(error).__name__
            checks[name] = f"failed: {code}"
    healthy = bool(checks) and all(v == "ok" for v in checks.values())
    return {
        "status": "ok" if healthy else "unavailable",
        "version": config.service_version,
        "checks": checks,
        "latency_ms": round((time.perf_counter() - started) * 1000, 1),
    }
