"""Who may do what: the route's roles (declared in clinic.routes) and the per-record rules.

Two layers of checks, both through the identity seam (``Caller``):

1. **Route**: ``check_route`` runs at the edge before the request is even validated; a role the
   route does not admit (``clinic.routes``) gets 403 FORBIDDEN. A route missing from the
   declaration is denied (fail closed).
2. **Record**: the use cases call the ``may_*`` / ``require_*`` helpers below once they know the
   record. A caller whose role the route admits but who has no business with *this* record gets
   404 NOT_FOUND — the same answer as for an id that does not exist, so existence never leaks
   (OWASP API1: broken object-level authorization).
"""

from __future__ import annotations

from collections.abc import Callable

from clinic import audit
from clinic.errors import Forbidden, NotFound
from clinic.identity import DOCTORS, PATIENTS, STAFF, Caller
from clinic.routes import ANYONE, AUTHENTICATED, Route


def roles_of(who: Caller) -> frozenset[str]:
    """The roles a caller can act in. A doctor or patient user without its id claim has no such role."""
    roles = {AUTHENTICATED} if who.is_authenticated else set()
    if who.is_staff:
        roles.add(STAFF)
    if who.is_doctor:
        roles.add(DOCTORS)
    if who.is_patient:
        roles.add(PATIENTS)
    return frozenset(roles)


def check_route(who: Caller, route: Route | None) -> None:
    """The route's roles (clinic.routes) admit the caller; an undeclared route admits nobody."""
    if route is None:
        raise Forbidden(detail="not allowed")
    if route.roles is ANYONE:
        return
    if not roles_of(who) & route.roles:
        raise Forbidden(detail="your role may not use this route")


def require_active_doctor(who: Caller, route: Route | None, is_active: Callable[[str], bool]) -> None:
    """A doctor's token counts only while its doctor record is active (API.md v1.2): a deactivated (or
    unknown) doctor is refused, 403, on every route a doctor may call (on the others the role alone
    already refuses them, or a token that is also staff's acts as staff). ``is_active`` reads the record."""
    if route is None or route.roles is ANYONE or not who.is_doctor or not route.roles & {DOCTORS, AUTHENTICATED}:
        return
    if not is_active(who.doctor_id or ""):
        raise Forbidden(detail="this doctor is not active")


def _hidden(kind: str) -> NotFound:
    audit.mark_denied()  # the client sees "not found"; the audit trail records the denial
    return NotFound(detail=f"{kind} not found")


# ---------------------------------------------------------------- patients
def require_patient_access(
    who: Caller, patient_id: str, *, doctor_sees_patient: Callable[[str, str], bool] | None = None
) -> None:
    """Staff; the patient themself; a doctor while a non-cancelled appointment links them and the
    doctor is active (when the route allows doctors, the caller passes how to find out)."""
    if who.is_staff:
        return
    if who.is_patient and who.patient_id == patient_id:
        return
    if who.is_doctor and doctor_sees_patient is not None and doctor_sees_patient(who.doctor_id or "", patient_id):
        return
    raise _hidden("patient")


def require_patient_update(who: Caller, patient_id: str, fields: set[str]) -> None:
    """Staff; or the patient themself, who may not (de)activate their own record."""
    require_patient_access(who, patient_id)
    if not who.is_staff and "active" in fields:
        raise Forbidden(detail="only staff may change whether a patient is active")


# ---------------------------------------------------------------- doctors
def require_own_schedule(who: Caller, doctor_id: str) -> None:
    if who.is_staff or (who.is_doctor and who.doctor_id == doctor_id):
        return
    raise Forbidden(detail="a doctor sees only their own schedule")


def require_own_calendar(who: Caller, doctor_id: str) -> None:
    """Staff, or the doctor themself (their time off). Decided from the token alone: doctors are public."""
    if who.is_staff or (who.is_doctor and who.doctor_id == doctor_id):
        return
    raise Forbidden(detail="a doctor manages only their own time off")


# ---------------------------------------------------------------- appointments
def require_booking_for(who: Caller, patient_id: str) -> None:
    if who.is_staff or (who.is_patient and who.patient_id == patient_id):
        return
    raise Forbidden(detail="a patient books only for themself")


def require_appointment_read(who: Caller, appointment: dict) -> None:
    if who.is_staff:
        return
    if who.is_patient and who.patient_id == appointment["patient_id"]:
        return
    if who.is_doctor and who.doctor_id == appointment["doctor_id"]:
        return
    raise _hidden("appointment")


def require_appointment_change(who: Caller, appointment: dict, rescheduling: bool) -> None:
    """Staff reschedule and change status; its doctor changes status only."""
    if who.is_staff:
        return
    if who.is_doctor and who.doctor_id == appointment["doctor_id"]:
        if rescheduling:
            raise Forbidden(detail="only staff reschedule appointments")
        return
    raise _hidden("appointment")


def require_owner(who: Caller, record: dict, kind: str) -> None:
    """Staff, or the patient the record is for: cancelling an appointment, a hold, a waitlist entry."""
    if who.is_staff or (who.is_patient and who.patient_id == record["patient_id"]):
        return
    raise _hidden(kind)


def require_cancel(who: Caller, appointment: dict) -> None:
    require_owner(who, appointment, "appointment")
