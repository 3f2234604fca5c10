"""Settings from the function's environment, read on first use (not at import, so tools such as the
OpenAPI generator can import every handler without an environment)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True)
class Settings:
    patients_table: str
    doctors_table: str
    appointments_table: str
    slot_locks_table: str
    audit_table: str
    idempotency_table: str
    pagination_secret: str
    service_version: str


@lru_cache(maxsize=1)
def settings() -> Settings:
    env = os.environ
    return Settings(
        patients_table=env.get("PATIENTS_TABLE", ""),
        doctors_table=env.get("DOCTORS_TABLE", ""),
        appointments_table=env.get("APPOINTMENTS_TABLE", ""),
        slot_locks_table=env.get("SLOT_LOCKS_TABLE", ""),
        audit_table=env.get("AUDIT_TABLE", ""),
        idempotency_table=env.get("IDEMPOTENCY_TABLE", ""),
        pagination_secret=env.get("PAGINATION_SECRET", ""),
        service_version=env.get("SERVICE_VERSION", "dev"),
    )
