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
| Location read (a site, or a room) | GET /locations/{id}, GET /resources/{id} |
| Location search | GET /locations, then GET /resources (rooms); ``partof``: GET /resources?location_id= |
| Device read | GET /resources/{id} (equipment) |
| Schedule read/search of a room or a device | GET /resources/{id} |

The scheduling operations (``$find``, ``$hold``, ``$book``) are in clinic.services.fhir_operations.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from clinic import audit, pagination
from clinic.domain.booking import MAX_DURATION_MINUTES
from clinic.errors import ApiError, FieldError, Forbidden, NotFound, ValidationFailed, invalid
from clinic.fhir import APPOINTMENT_TYPE_SYSTEM, resources
from clinic.fhir.search import Params, Window, count, reference, tokens, window
from clinic.identity import Caller
from clinic.models.common import parse_utc
from clinic.services import allocation, appointments, doctors, locations, patients, require_id
from clinic.services import resources as places

# The parameters each search reads (anything else is "unknown": ignored with a warning, or 400 when strict).
SEARCHES: dict[str, tuple[str, ...]] = {
    "Schedule": ("actor", "_count"),
    "Slot": ("schedule", "start", "status", "service-type", "_count"),
    "Appointment": ("patient", "practitioner", "date", "_count", "_page_token"),
    "Location": ("partof", "_count", "_page_token"),
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


def read_schedule(schedule_id: str) -> dict[str, Any]:
    """A doctor's Schedule (id = the doctor's), or a room's or a device's (id = the resource's)."""
    try:
        return resources.schedule(doctors.get(schedule_id))
    except NotFound:
        pass
    try:
        return resources.resource_schedule(places.load(schedule_id))
    except NotFound:
        raise NotFound(detail="schedule not found") from None


def read_appointment(appointment_id: str, who: Caller) -> dict[str, Any]:
    appointment = appointments.get(appointment_id, who)
    return resources.appointment(appointment, categories([appointment]))


def categories(records: list[dict[str, Any]]) -> dict[str, str]:
    """Resource id → room | equipment for the resources the records (appointments, holds) take: from this
    container's copy of each location's resources (a resource's category is fixed once created, so a copy is
    never wrong about it), read again when it misses one (a resource created since)."""
    found: dict[str, str] = {}
    for record in records:
        taken = [t["id"] for t in record.get("resources") or [] if t["id"] not in found]
        location_id = record.get("location_id")
        if not taken or not location_id:
            continue
        known = {r["id"]: r["category"] for r in allocation.resources_at(location_id)}
        if any(t not in known for t in taken):
            known = {r["id"]: r["category"] for r in allocation.resources_at(location_id, fresh=True)}
        found.update(known)
    return found


# ---------------------------------------------------------------------- Location and Device
def read_location(location_id: str) -> dict[str, Any]:
    """A site (a native location) or a room (a native resource of category room), by id."""
    try:
        return resources.site(locations.load(location_id))
    except NotFound:
        pass
    try:
        record = places.load(location_id)
    except NotFound:
        record = None
    if record is None or record["category"] != "room":
        raise NotFound(detail="location not found")
    return resources.room(record)


def read_device(device_id: str) -> dict[str, Any]:
    """A piece of equipment (a native resource of category equipment), by id."""
    try:
        record = places.load(device_id)
    except NotFound:
        record = None
    if record is None or record["category"] != "equipment":
        raise NotFound(detail="device not found")
    return resources.device(record)


def search_locations(found: Params) -> Page:
    """Location: every site by name, then every room by name; ``partof=Location/<site>``: that site's rooms,
    by name (a site that does not exist is a 404). Paged by an opaque token (``_page_token``) holding the
    native list's token and which list it is in. Equipment is not a Location (it is a Device), so a page of
    rooms may hold fewer than ``_count``."""
    page_size = count(found)
    site = reference(found, "partof", "Location")
    if site is not None:
        locations.load(site)  # 404 when there is no such site
    scope = pagination.scope_of("fhir:Location", site)
    token = found.one("_page_token")
    try:
        state = pagination.decode(token, scope) or {"list": "rooms" if site else "sites", "token": None}
        matches: list[dict[str, Any]] = []
        if state["list"] == "sites":
            listed = locations.list_page(page_size, state["token"])
            matches += [resources.site(item) for item in listed["items"]]
            next_sites = listed["next_token"]
            state = {"list": "sites", "token": next_sites} if next_sites else {"list": "rooms", "token": None}
        if state["list"] == "rooms" and len(matches) < page_size:
            listed = places.list_page(page_size - len(matches), state["token"], site, None)
            matches += [resources.room(item) for item in listed["items"] if item["category"] == "room"]
            state = {"list": "rooms", "token": listed["next_token"]} if listed["next_token"] else None
    except ValidationFailed as error:
        raise _renamed(error, {"next_token": "_page_token"}) from None
    used = _used(found, ("partof", "_count"))
    next_token = pagination.encode(state, scope) if state else None
    next_pairs = [*used, ("_page_token", next_token)] if next_token else None
    total = len(matches) if token is None and next_pairs is None else None  # known for free: one page holds all
    return Page(matches, [*used, *([("_page_token", token)] if token else [])], next_pairs, total)


# ---------------------------------------------------------------------- Schedule
ACTOR_TYPES = ("Practitioner", "Location", "Device")


def search_schedules(found: Params) -> Page:
    """Schedule?actor=Practitioner/<id> (a doctor's Schedule), Location/<id> (a room's) or Device/<id> (a
    device's). A record that does not exist is a 404, as in every search here that names a record (the
    native routes' rule); a site exists but keeps no calendar of its own: no Schedule."""
    kind, actor = _actor(found)
    count(found)
    if kind in (None, "Practitioner"):
        try:
            matches = [resources.schedule(doctors.get(actor))]
        except NotFound:
            if kind == "Practitioner":
                raise
            matches = _resource_schedules(actor, None)
    else:
        matches = _resource_schedules(actor, kind)
    return Page(matches, _used(found, SEARCHES["Schedule"]), total=len(matches))


def _resource_schedules(resource_id: str, kind: str | None) -> list[dict[str, Any]]:
    """A room's (kind Location) or a device's (Device) Schedule; a site's: none; anything else: 404."""
    try:
        record = places.load(resource_id)
    except NotFound:
        record = None
    if record is not None and kind in (None, "Device" if record["category"] == "equipment" else "Location"):
        return [resources.resource_schedule(record)]
    if kind in (None, "Location") and record is None:
        try:
            locations.load(resource_id)
        except NotFound:
            raise NotFound(detail="schedule not found") from None
        return []  # a site keeps no calendar of its own
    raise NotFound(detail=f"{(kind or 'schedule').lower()} not found")


def _actor(found: Params) -> tuple[str | None, str]:
    value = found.one("actor")
    if value is None:
        raise invalid("actor", "give actor=Practitioner/<id>, Location/<id> or Device/<id>")
    kind, slash, _ = value.rpartition("/")
    if slash and kind not in ACTOR_TYPES:
        raise invalid("actor", "must be a reference to a Practitioner, a Location or a Device: <type>/<id>")
    return (kind or None), reference(found, "actor", kind) if slash else reference(found, "actor", "Practitioner")


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
    kinds = categories(page["items"])
    items = [resources.appointment(a, kinds) for a in page["items"]]
    next_pairs = [*used, ("_page_token", page["next_token"])] if page["next_token"] else None
    # the total is known for free only when the first page holds everything
    total = len(items) if token is None and next_pairs is None else None
    return Page(items, [*used, *([("_page_token", token)] if token else [])], next_pairs, total)
