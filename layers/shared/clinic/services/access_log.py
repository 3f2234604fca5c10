"""A patient's access history, from the audit trail (staff only; the read itself is audited too)."""

from __future__ import annotations

from typing import Any

from clinic import audit, pagination
from clinic.models.audit import AccessRecord
from clinic.services import patients


def history(patient_id: str, limit: int, next_token: str | None) -> dict[str, Any]:
    patient = patients.load(patient_id)  # 404 for an unknown or malformed id
    scope = pagination.scope_of("access_log", patient["id"])
    items, last_key = audit.history(patient["id"], limit, pagination.decode(next_token, scope))
    records = [AccessRecord.model_validate({**i, "at": i["recorded_at"]}).model_dump(mode="json") for i in items]
    return {"items": records, "next_token": pagination.encode(last_key, scope)}
