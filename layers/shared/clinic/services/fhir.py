"""FHIR R4 use cases: every read and search is its native route's use case — the same access rules,
audit marks, storage calls and limits — with the answer mapped to FHIR (clinic.fhir.resources) and the
search parameters read the FHIR way (clinic.fhir.search).

| FHIR | native twin |
| --- | --- |
| Patient read | GET /patients/{id} |
| Practitioner read, Schedule read/search | GET /doctors/{id} |
| Slot search | GET /doctors/{id}/availability |
| Appointment read | GET /appointments/{id} |
| Appointment search by patient | GET /patients/{id}/appointments (every status) |
| Appointment search by practitioner | GET /doctors/{id}/schedule (not cancelled, span ≤ 31 days) |
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from clinic import audit
from clinic.domain.booking import MAX_DURATION_MINUTES
from clinic.errors import ApiError, FieldError, Forbidden, NotFound, ValidationFailed, invalid
from clinic.fhir import APPOINTMENT_TYPE_SYSTEM, resources
from clinic.fhir.search import Params, Window, count, reference, tokens, window
from clinic.identity import Caller
from clinic.models.common import parse_utc
from clinic.services import appointments, doctors, patients, require_id

# The parameters each search reads (anything else is "unknown": ignored with a warning, or 400 when strict).
SEARCHES: dict[str, tuple[str, ...]] = {
    "Schedule": ("actor", "_count"),
    "Slot": ("schedule", "start", "status", "service-type", "_count"),
    "Appointment": ("patient", "practitioner", "date", "_count", "_page_token"),
}
SLOT_STATUSES = ("busy", "free", "busy-unavailable", "busy-tentative", "entered-in-error")
SLOT_STATUS_SYSTEM = "http://hl7.org/fhir/slotstatus"


@dataclass
class Page:
    """One page of a search: the matching resources, the parameters used (for the self and next links),
    the next page's token (Appointment) or start (Slot), and the total when it is known for free."""

    resources: list[dict[str, Any]]
    used: list[tuple[str, str]]
    next_pairs: list[tuple[str, str]] | None = None
    total: int | None = None


def _used(found: Params, names: tuple[str, ...]) -> list[tuple[str, str]]:
    return [(name, value) for name in names for value in found.all(name)]


# ---------------------------------------------------------------------- reads
def read_patient(patient_id: str, who: Caller) -> dict[str, Any]:
    return resources.patient(patients.get(patient_id, who))


def read_practitioner(doctor_id: str) -> dict[str, Any]:
    return resources.practitioner(doctors.get(doctor_id))


def read_schedule(doctor_id: str) -> dict[str, Any]:
    return resources.schedule(doctors.get(doctor_id))


def read_appointment(appointment_id: str, who: Caller) -> dict[str, Any]:
    return resources.appointment(appointments.get(appointment_id, who))


# ---------------------------------------------------------------------- Schedule
def search_schedules(found: Params) -> Page:
    """Schedule?actor=Practitioner/<id>: that doctor's Schedule. A practitioner that does not exist is a
    404, as in every search here that names a record (the native routes' rule)."""
    actor = reference(found, "actor", "Practitioner")
    if actor is None:
        raise invalid("actor", "give actor=Practitioner/<id>")
    count(found)
    matches = [read_schedule(actor)]
    return Page(matches, _used(found, SEARCHES["Schedule"]), total=len(matches))


# ---------------------------------------------------------------------- Slot
def _bounded(span: Window, name: str, max_days: int) -> tuple[datetime, datetime]:
    if span.lower is None or span.upper is None:
        raise invalid(name, f"give a lower and an upper bound: {name}=ge…&{name}=lt…")
    if span.lower >= span.upper:
        raise invalid(name, "the lower bound must be before the upper bound")
    if span.upper - span.lower > timedelta(days=max_days):
        raise invalid(name, f"the bounds must be at most {max_days} days apart")
    return span.lower, span.upper


def _type_code(found: Params) -> tuple[str | None, bool]:
    """The appointment type asked for with service-type, and whether it can match anything at all."""
    given = tokens(found, "service-type", alternatives=False)
    if not given:
        return None, True
    codes = {t.code for (t,) in given}
    if len(codes) > 1:
        return None, False  # two different types at once: no slot is both
    (token,) = given[0]
    return token.code, token.system in (None, "", APPOINTMENT_TYPE_SYSTEM)


def _wants_free(found: Params) -> bool:
    for options in tokens(found, "status") or []:
        for token in options:
            if token.code not in SLOT_STATUSES or token.system not in (None, "", SLOT_STATUS_SYSTEM):
                raise invalid("status", f"must be one of {', '.join(SLOT_STATUSES)}")
        if not any(t.code == "free" for t in options):
            return False
    return True


def search_slots(found: Params, who: Caller) -> Page:
    """Slot?schedule=Schedule/<id>&start=ge…&start=lt…: the doctor's free times whose start is in the
    window (at most 14 days), by start, computed by the native availability (one source of truth: working
    hours, time off, types and buffers, notice and horizon, taken time). A page holds ``_count`` slots; the
    next page is the same search starting after the last one (``start=gt<its start>``)."""
    page_size = count(found)
    doctor_id = reference(found, "schedule", "Schedule")
    if doctor_id is None:
        raise invalid("schedule", "give schedule=Schedule/<id>")
    lower, upper = _bounded(window(found, "start"), "start", appointments.AVAILABILITY_MAX_DAYS)
    type_code, matchable = _type_code(found)
    wanted = _wants_free(found) and matchable
    free = _free_starting_in(doctor_id, lower, upper, type_code, who) if wanted else []
    shown = [resources.slot(doctor_id, s, type_code) for s in free[:page_size]]
    used = _used(found, SEARCHES["Slot"])
    next_pairs = None
    if len(free) > page_size:
        resume = resources.instant(free[page_size - 1]["start"])
        next_pairs = [
            *[(n, v) for n, v in used if n != "start"],
            ("start", f"gt{resume}"),
            *[("start", v) for n, v in used if n == "start" and _is_upper(v)],
        ]
    return Page(shown, used, next_pairs, total=len(free))


def _is_upper(value: str) -> bool:
    return value.strip()[:2] in ("lt", "le", "eb", "eq") or value.strip()[:1].isdigit()


def _free_starting_in(
    doctor_id: str, lower: datetime, upper: datetime, type_code: str | None, who: Caller
) -> list[dict[str, str]]:
    """Free times starting in [lower, upper). The native availability answers times lying wholly in its
    window of at most 14 days; a time starting before ``upper`` may end up to MAX_DURATION_MINUTES after
    it, so the window reaches that far — in a second call, over the last hours only, when one window of 14
    days cannot."""
    tail = timedelta(minutes=MAX_DURATION_MINUTES)
    limit = timedelta(days=appointments.AVAILABILITY_MAX_DAYS)
    windows = [(lower, min(upper + tail, lower + limit))]
    if upper + tail > lower + limit:
        windows.append((max(lower, upper - tail), upper + tail))
    found: dict[tuple[str, str], dict[str, str]] = {}
    for start, end in windows:
        try:
            answer = appointments.availability(doctor_id, start, end, type_code, who)
        except ValidationFailed as error:
            raise _renamed(error, {"appointment_type": "service-type", "from": "start", "to": "start"}) from None
        for free in answer["slots"]:
            found.setdefault((free["start"], free["end"]), free)
    starts_in = [s for s in found.values() if lower <= parse_utc(s["start"]) < upper]
    return sorted(starts_in, key=lambda s: (parse_utc(s["start"]), parse_utc(s["end"])))


def _renamed(error: ApiError, names: dict[str, str]) -> ApiError:
    """A native validation error, its fields named as the FHIR search names them."""

    def renamed(text: str) -> str:
        return text.replace("next_token", "_page_token")

    error.errors = [FieldError(names.get(e.field, e.field), renamed(e.message)) for e in error.errors]
    error.detail = renamed(error.detail)
    return error


# ---------------------------------------------------------------------- Appointment
def search_appointments(found: Params, who: Caller) -> Page:
    """Appointment?patient=Patient/<id> (its native twin: the patient's appointments, every status; staff
    and the patient) or ?practitioner=Practitioner/<id> (the doctor's schedule: not cancelled, both date
    bounds, at most 31 days; staff and the doctor), ``date`` bounds on the start, paged by an opaque token
    bound to the query (``_page_token``, in link next). As on the native routes, the role is judged first
    (403), and the patient addressed is on the audit trail whatever the answer."""
    patient_id = reference(found, "patient", "Patient")
    if patient_id is not None:
        try:
            audit.touched(require_id(patient_id, "patient"))  # addressed, allowed or not: as a path id would be
        except NotFound:
            pass
    doctor_id = reference(found, "practitioner", "Practitioner")
    if (patient_id is None) == (doctor_id is None):
        raise invalid("patient", "give patient=Patient/<id> or practitioner=Practitioner/<id> (one of them)")
    if patient_id is not None and not (who.is_staff or who.is_patient):
        raise Forbidden(detail="appointments by patient: staff and the patient themself")
    if doctor_id is not None and not (who.is_staff or who.is_doctor):
        raise Forbidden(detail="appointments by practitioner: staff and the doctor themself")
    page_size = count(found)
    span = window(found, "date")
    token = found.one("_page_token")
    try:
        if patient_id is not None:
            if span.lower is not None and span.upper is not None and span.lower >= span.upper:
                raise invalid("date", "the lower bound must be before the upper bound")
            page = appointments.patient_appointments(patient_id, span.lower, span.upper, None, page_size, token, who)
        else:
            lower, upper = _bounded(span, "date", appointments.SCHEDULE_MAX_DAYS)
            page = appointments.doctor_schedule(doctor_id or "", lower, upper, page_size, token, who)
    except ValidationFailed as error:
        raise _renamed(error, {"next_token": "_page_token", "from": "date", "to": "date"}) from None
    used = _used(found, ("patient", "practitioner", "date", "_count"))
    items = [resources.appointment(a) for a in page["items"]]
    next_pairs = [*used, ("_page_token", page["next_token"])] if page["next_token"] else None
    # the total is known for free only when the first page holds everything
    total = len(items) if token is None and next_pairs is None else None
    return Page(items, [*used, *([("_page_token", token)] if token else [])], next_pairs, total)
