"""The audit trail: every read and write of a patient's data, allowed or not, leaves a record.

The edge writes it after the use case has answered (``record``), for every route whose declaration
names an audit action (clinic.routes), so no handler can forget it and denials are recorded too.
One item per patient touched (a patient's history is then one Query), holding ids and codes only:
who (sub, role), what (action, record ids), when, the request id, the status and the outcome
(allowed, denied or failed).

Which patients a request touched comes only from sources the client cannot forge:

- the path's ``patient_id`` (the record the client addressed, allowed or not);
- the records the use case loaded, wrote or acted for, marked by the services with ``touched``
  *after* the caller was allowed to act for that patient, or once the record was loaded.

Never from a request body by itself: a patient sending ``{"patient_id": "<someone else>"}`` puts
nothing on anyone else's trail. A request that touched no patient is recorded under ``none``.

If building the records fails (a bug), a minimal record — route, actor, outcome — is still written
and ``AuditWriteFailed`` counted. If the write fails, the edge answers 503: patient data is never
handed out unaudited. Storage (an append-only table) is clinic.data.audit_log.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from clinic.data import audit_log
from clinic.identity import SYSTEM, Caller
from clinic.models.common import now_utc, utc_iso
from clinic.observability import count, log_failure
from clinic.routes import Route

NO_PATIENT = "none"  # subject of a record that names no patient (e.g. a denied list)
DENIED_STATUSES = (401, 403)


@dataclass
class _Marks:
    patients: list[str] = field(default_factory=list)
    appointment_id: str | None = None
    doctor_id: str | None = None
    denied: bool = False
    # patient → the status its record, written inside the use case's own transaction, already says
    committed: dict[str, int] = field(default_factory=dict)
    route: Route | None = None
    event: Mapping[str, Any] = field(default_factory=dict)
    caller: Caller | None = None
    # the action this request records, when its route serves several (the FHIR operations); None: the route's
    action: str | None = None
    unaudited: bool = False  # this request of an audited route touched no patient data (FHIR $find)
    status: int | None = None  # the status this request answers when it succeeds, if not its use case's own


_marks: ContextVar[_Marks] = ContextVar("audit_marks")


def start_request(
    route: Route | None = None, event: Mapping[str, Any] | None = None, caller: Caller | None = None
) -> None:
    """Forget the previous request's marks (a warm Lambda runs many requests in one context), and
    remember this one's route, event and caller for records written inside a transaction."""
    _marks.set(_Marks(route=route, event=event or {}, caller=caller))


def _current() -> _Marks:
    try:
        return _marks.get()
    except LookupError:
        marks = _Marks()
        _marks.set(marks)
        return marks


def touched(patient_id: str | None = None, *, appointment_id: str | None = None, doctor_id: str | None = None) -> None:
    """Called by the services: this request loaded, wrote or acted for this patient's data."""
    marks = _current()
    if patient_id and patient_id not in marks.patients:
        marks.patients.append(patient_id)
    if appointment_id:
        marks.appointment_id = marks.appointment_id or appointment_id
    if doctor_id:
        marks.doctor_id = marks.doctor_id or doctor_id


def act_as(action: str | None, *, answers: int | None = None) -> None:
    """Called by a use case whose route serves several actions (clinic.services.fhir_operations): the action
    this request records on the trail (None: it touches no patient data and records nothing), and the status
    it answers on success when that is not its native twin's (a FHIR operation answers 200 where POST /holds
    answers 201): the record written inside the twin's transaction then says what the client was answered."""
    marks = _current()
    marks.action, marks.unaudited, marks.status = action, action is None, answers


def mark_denied() -> None:
    """The access rules hid a record (404): the client sees "not found", the trail says denied."""
    _current().denied = True


def _uuid(value: Any) -> str | None:
    try:
        return str(uuid.UUID(str(value))) if value else None
    except ValueError:
        return None


def outcome_of(status: int) -> str:
    if status < 400:
        return "allowed"
    if status in DENIED_STATUSES or _current().denied:
        return "denied"
    return "failed"


def in_transaction(
    patient_id: str, status: int, *, appointment_id: str | None = None, doctor_id: str | None = None
) -> list[dict[str, Any]]:
    """The record of this request for one patient, to be written inside the use case's own
    transaction: it commits exactly when the change does, with no write of its own. Empty outside an
    audited request (e.g. a test calling a service directly)."""
    marks = _current()
    touched(patient_id, appointment_id=appointment_id, doctor_id=doctor_id)
    if marks.route is None or marks.route.audit is None or marks.caller is None:
        return []
    status = marks.status or status
    (record,) = [
        r
        for r in build_records(marks.route, marks.event, marks.caller, status, _all=True)
        if r["patient_id"] == patient_id
    ]
    record["at"] += "#tx"  # never the key of a record the edge writes for the same request
    marks.committed[patient_id] = status
    return [record]


def by_the_service(
    patient_id: str,
    action: str,
    status: int,
    *,
    actor: str,
    doctor_id: str | None = None,
    appointment_id: str | None = None,
) -> list[dict[str, Any]]:
    """The record of a change the service made by itself — a waitlist offer, a hold's or an entry's
    expiry — for the patient's trail, to be written inside that change's own transaction (it commits
    exactly when the change does): ``actor_role`` "system", ``actor_sub`` the job that made it,
    ``request_id`` the invocation's."""
    from clinic.observability import logger

    request_id = str(logger.get_correlation_id() or uuid.uuid4())
    at = utc_iso(now_utc())
    record = {
        "subject": f"patient#{patient_id}",
        "patient_id": patient_id,
        "at": f"{at}#{request_id}#{uuid.uuid4()}",  # one invocation may make several such changes
        "recorded_at": at,
        "action": action,
        "outcome": "allowed",
        "status": status,
        "actor_sub": actor,
        "actor_role": SYSTEM,
        "request_id": request_id,
    }
    for name, value in (("doctor_id", doctor_id), ("appointment_id", appointment_id)):
        if value:
            record[name] = value
    return [record]


def build_records(
    route: Route, event: Mapping[str, Any], who: Caller, status: int, _all: bool = False
) -> list[dict[str, Any]]:
    marks = _current()
    path = event.get("pathParameters") or {}
    request_id = (event.get("requestContext") or {}).get("requestId") or str(uuid.uuid4())
    at = utc_iso(now_utc())
    ids = {
        "appointment_id": _uuid(path.get("appointment_id")) or marks.appointment_id,
        "doctor_id": _uuid(path.get("doctor_id")) or marks.doctor_id,
    }
    common = {
        "at": f"{at}#{request_id}",
        "recorded_at": at,
        "action": marks.action or route.audit,
        "outcome": outcome_of(status),
        "status": status,
        "actor_sub": who.sub or "anonymous",
        "actor_role": who.role,
        "request_id": request_id,
        **{k: v for k, v in ids.items() if v},
    }
    touched_ids = list(dict.fromkeys(p for p in (_uuid(path.get("patient_id")), *map(_uuid, marks.patients)) if p))
    if not _all:
        # a patient whose record the use case's transaction already wrote with this very status
        pending = [p for p in touched_ids if marks.committed.get(p) != status]
        if touched_ids and not pending:
            return []
        touched_ids = pending
    return [{"subject": f"patient#{p}", "patient_id": p, **common} for p in touched_ids] or [
        {"subject": NO_PATIENT, "patient_id": NO_PATIENT, **common}
    ]


def minimal_record(route: Route, event: Mapping[str, Any], who: Caller, status: int) -> dict[str, Any]:
    """What is recorded when the full records could not be built: route, actor, outcome."""
    request_id = str((event.get("requestContext") or {}).get("requestId") or uuid.uuid4())
    at = utc_iso(now_utc())
    return {
        "subject": NO_PATIENT,
        "patient_id": NO_PATIENT,
        "at": f"{at}#{request_id}",
        "recorded_at": at,
        "action": _current().action or route.audit or f"{route.method} {route.path}",
        "outcome": "allowed" if status < 400 else "denied" if status in DENIED_STATUSES else "failed",
        "status": status,
        "actor_sub": str(who.sub or "anonymous"),
        "actor_role": str(who.role),
        "request_id": request_id,
        "incomplete": True,
    }


def record(route: Route, event: Mapping[str, Any], who: Caller, status: int) -> None:
    """Write this request's audit records (raises the storage error if they cannot be written)."""
    if _current().unaudited:
        return
    try:
        records = build_records(route, event, who, status)
    except Exception as error:
        log_failure("audit records not built", error)
        count("AuditWriteFailed")
        records = [minimal_record(route, event, who, status)]
    audit_log.append(records)


def history(patient_id: str, limit: int, start_key: dict | None) -> tuple[list[dict[str, Any]], dict | None]:
    """One patient's access records, newest first."""
    return audit_log.history(f"patient#{patient_id}", limit, start_key)
