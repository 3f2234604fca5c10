"""The FHIR scheduling operations (IHE ITI Scheduling for FHIR R4; API.md v1.2, docs/fhir.md): ``$find``,
``$hold`` and ``$book`` on Appointment — a standard face over the native use cases, with their rules, codes,
access, idempotency, events and metrics; each writes its own audit action.

- ``$find`` (GET /availability, plus a practitioner filter): Parameters → a searchset Bundle of ``proposed``
  Appointments; no patient data, no audit record.
- ``$hold`` (POST /holds): a proposed Appointment with its Patient → the ``pending`` Appointment whose id is
  the hold's; audit ``fhir.appointment.hold``.
- ``$book``: a pending Appointment (POST /holds/{id}/confirm) or a proposed one with its Patient (POST
  /appointments) → a collection Bundle with the ``booked`` Appointment; audit ``fhir.appointment.book``. A
  booked Appointment sent back ``cancelled`` with a ``cancelationReason`` (POST /appointments/{id}/cancel)
  cancels it; audit ``fhir.appointment.cancel``.

API Gateway (REST) does not accept ``$`` in a resource path, so the three are one route,
``POST /fhir/Appointment/{appointment_id}`` (the instance read's resource), whose path value names the
operation: one function serves them (clinic.routes). A native validation error keeps its status and code;
its field is named as the operation's input names it (``from`` → ``start``, ``patient_id`` →
``appointment.participant``, ...).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import unquote

from pydantic import TypeAdapter, ValidationError

from clinic import audit, parsing
from clinic.domain import booking
from clinic.errors import ApiError, FieldError, Forbidden, NotFound, ValidationFailed, invalid
from clinic.fhir import APPOINTMENT_TYPE_SYSTEM, bundle, resources
from clinic.fhir.models import AppointmentIn, ParameterIn, ParametersIn
from clinic.fhir.search import UnsupportedParameter, shown_name
from clinic.identity import Caller
from clinic.models.appointments import AppointmentCreate, CancelRequest
from clinic.models.common import Instant, parse_utc
from clinic.models.holds import HoldConfirm, HoldCreate
from clinic.services import appointments, availability, doctors, holds, in_a_keyed_request, new_id, require_id
from clinic.services.fhir import categories

FIND, HOLD, BOOK = "$find", "$hold", "$book"
OPERATIONS = (FIND, HOLD, BOOK)
# The parameters each operation reads; $find ignores the others (with a warning, or 400 under handling=strict,
# as the searches do); $hold and $book refuse them (422): a write is never made without something it was asked.
FIND_PARAMETERS = ("start", "end", "specialty", "location", "practitioner", "visit-type", "_count", "_page_token")
WRITE_PARAMETERS = ("appointment",)
DEFAULT_COUNT, MAX_COUNT = 20, 100
_INSTANT = TypeAdapter(Instant)
_UUID = re.compile(r"^[0-9a-fA-F-]{36}$")


def operation_of(path_value: str) -> str:
    """The operation a path names (``$find``; ``%24find`` as a client may escape it), or 404."""
    name = unquote(path_value or "")
    if name not in OPERATIONS:
        raise NotFound(detail="no such operation on Appointment: $find, $hold and $book are served")
    return name


def takes_a_key(path_value: str) -> bool:
    """$hold and $book take an Idempotency-Key; $find changes nothing and is never replayed."""
    return unquote(path_value or "") in (HOLD, BOOK)


@dataclass
class Given:
    """An operation's parameters: name → the ParameterIn values, in order; the names ignored ($find)."""

    values: dict[str, list[ParameterIn]]
    ignored: list[str]

    def one(self, name: str) -> ParameterIn | None:
        found = self.values.get(name, [])
        if len(found) > 1:
            raise invalid(name, "may be given only once")
        return found[0] if found else None


def _given(parameters: ParametersIn, known: tuple[str, ...], *, strict: bool, lenient: bool) -> Given:
    values: dict[str, list[ParameterIn]] = {}
    ignored: list[str] = []
    for parameter in parameters.parameter:
        if parameter.name in known:
            values.setdefault(parameter.name, []).append(parameter)
        else:
            ignored.append(shown_name(parameter.name))
    ignored = sorted(set(ignored))
    if ignored and not lenient:
        raise ValidationFailed(
            detail="parameters this operation does not take: " + ", ".join(ignored),
            errors=[FieldError(n, "not a parameter of this operation") for n in ignored],
        )
    if ignored and strict:
        raise UnsupportedParameter(
            detail="parameters this server does not support: " + ", ".join(ignored),
            errors=[FieldError(n, "not a supported parameter") for n in ignored],
        )
    return Given(values, ignored)


# ---------------------------------------------------------------------- values of parameters
def _text(parameter: ParameterIn, name: str) -> str:
    """A code or string value (a Coding's code; a token's code after ``system|``)."""
    value = parameter.valueCode or parameter.valueString
    if value is None and parameter.valueCoding is not None:
        value = parameter.valueCoding.code
    if value is None or not value.strip():
        raise invalid(name, "give a valueString or valueCode")
    return value.strip()


def _instant(parameter: ParameterIn | None, name: str) -> datetime:
    if parameter is None:
        raise invalid(name, f"{name} is required")
    value = parameter.valueDateTime or parameter.valueInstant or parameter.valueString
    if value is None or "T" not in value:
        raise invalid(name, "must be a dateTime with a time and an offset (valueDateTime or valueInstant)")
    try:
        return _INSTANT.validate_python(value)
    except ValidationError:
        raise invalid(name, "must be a dateTime with a time and an offset (Z or ±hh:mm)") from None


def _referenced(value: str | None, name: str, resource_type: str) -> str:
    """The id of ``Type/id`` (or of a bare id); the id as the native routes take it (a UUID, else 422 here:
    it is a filter, not a path)."""
    kind, slash, ident = (value or "").strip().rpartition("/")
    if not ident or (slash and kind.rsplit("/", 1)[-1] != resource_type) or not _UUID.fullmatch(ident):
        raise invalid(name, f"must be a reference to a {resource_type}: {resource_type}/<id>")
    return ident.lower()


def _reference(parameter: ParameterIn | None, name: str, resource_type: str) -> str | None:
    if parameter is None:
        return None
    value = parameter.valueReference.reference if parameter.valueReference else parameter.valueString
    return _referenced(value, name, resource_type)


def _type_code(parameter: ParameterIn | None, name: str) -> str | None:
    if parameter is None:
        return None
    if parameter.valueCoding is not None and parameter.valueCoding.system not in (None, APPOINTMENT_TYPE_SYSTEM):
        raise invalid(name, "must be a code of the clinic's appointment types")
    system, bar, code = _text(parameter, name).rpartition("|")
    if bar and system not in ("", APPOINTMENT_TYPE_SYSTEM):
        raise invalid(name, "must be a code of the clinic's appointment types")
    return code


def _count(parameter: ParameterIn | None) -> int:
    if parameter is None:
        return DEFAULT_COUNT
    value = parameter.valuePositiveInt or parameter.valueInteger or parameter.valueUnsignedInt
    if value is None and parameter.valueString and parameter.valueString.isdigit():
        value = int(parameter.valueString[:4])
    if value is None or not 1 <= value <= MAX_COUNT:
        raise invalid("_count", f"must be a whole number from 1 to {MAX_COUNT}")
    return value


# native messages that name the native query's fields, as the operation's input names them
_MESSAGES = {"from must be before to": "start must be before end", "the span from..to": "the span start..end"}


def _renamed(error: ApiError, names: dict[str, str]) -> ApiError:
    """A native error, its fields named as the operation's input names them."""

    def said(text: str) -> str:
        for native, ours in _MESSAGES.items():
            text = text.replace(native, ours)
        return text

    error.errors = [FieldError(names.get(e.field, e.field), said(e.message)) for e in error.errors]
    error.detail = said(error.detail)
    return error


# ---------------------------------------------------------------------- $find
FIND_NAMES = {
    "from": "start",
    "to": "end",
    "limit": "_count",
    "next_token": "_page_token",
    "appointment_type": "visit-type",
    "location_id": "location",
}


def find(parameters: ParametersIn, page_token: str | None, who: Caller, base: str | None, strict: bool) -> dict:
    """Free slots as GET /availability finds them (the same query: ``start``/``end`` → from/to, ``specialty``,
    ``location`` → location_id, ``visit-type`` → appointment_type, ``_count`` → limit, ``_page_token`` →
    next_token), optionally of one ``practitioner``: one ``proposed`` Appointment per slot, in the same order,
    with ``total`` (every slot of the window) and ``link`` next (the same operation, with ``_page_token``)."""
    audit.act_as(None)  # no patient data: like GET /availability, not on any trail
    given = _given(parameters, FIND_PARAMETERS, strict=strict, lenient=True)
    start, end = _instant(given.one("start"), "start"), _instant(given.one("end"), "end")
    specialty_parameter = given.one("specialty")
    specialty = _text(specialty_parameter, "specialty").rpartition("|")[2] if specialty_parameter else None
    if specialty is not None and not 1 <= len(specialty) <= 100:
        raise invalid("specialty", "must be 1 to 100 characters")
    location_id = _reference(given.one("location"), "location", "Location")
    doctor_id = _reference(given.one("practitioner"), "practitioner", "Practitioner")
    type_code = _type_code(given.one("visit-type"), "visit-type")
    if type_code is not None and not re.fullmatch(r"[a-z0-9-]{1,40}", type_code):
        raise invalid("visit-type", "must be a code of the clinic's appointment types")
    limit = _count(given.one("_count"))
    token_parameter = given.one("_page_token")
    token = _text(token_parameter, "_page_token") if token_parameter else page_token
    try:
        page = availability.search(
            start,
            end,
            specialty=specialty,
            location_id=location_id,
            type_code=type_code,
            limit=limit,
            next_token=token,
            who=who,
            doctor_id=doctor_id,
            count_total=True,
        )
    except NotFound:
        raise NotFound(
            detail="practitioner not found", errors=[FieldError("practitioner", "no such practitioner")]
        ) from None
    except ApiError as error:
        raise _renamed(error, FIND_NAMES) from None
    here = f"{base}/Appointment/$find" if base else "Appointment/$find"
    after = page["next_token"]
    next_url = bundle.url(base, "Appointment/$find", [("_page_token", after)]) if after else None
    return bundle.searchset(
        [resources.proposed(item) for item in page["items"]],
        base=None,  # proposals are not records: no fullUrl to read them at
        self_url=here,
        next_url=next_url,
        total=page["total"],
        ignored=given.ignored,
    )


# ---------------------------------------------------------------------- the Appointment a write is given
@dataclass
class Asked:
    """What an Appointment given to $hold or $book asks for."""

    appointment: AppointmentIn
    patient_id: str | None
    doctor_id: str | None
    places: list[str]  # Location and Device ids: the site, and the rooms and equipment to take
    start: datetime | None
    end: datetime | None
    type_code: str | None
    reason: str | None


def _appointment(given: Given) -> Asked:
    parameter = given.one("appointment")
    if parameter is None or parameter.resource is None:
        raise invalid("appointment", "give the Appointment as the resource of the parameter appointment")
    try:
        appointment = parsing.model(AppointmentIn, parameter.resource, where="appointment")
    except ValidationFailed as error:  # its fields named as the operation's input names them
        error.errors = [FieldError(f"appointment.{e.field}", e.message) for e in error.errors]
        raise
    found: dict[str, list[str]] = {"Patient": [], "Practitioner": [], "Location": [], "Device": []}
    for participant in appointment.participant:
        reference = (participant.actor.reference if participant.actor else None) or ""
        kind = reference.rpartition("/")[0].rsplit("/", 1)[-1]
        if kind not in found:
            raise invalid(
                "appointment.participant",
                "each participant's actor must be a reference to a Patient, a Practitioner, a Location or a Device",
            )
        found[kind].append(_referenced(reference, "appointment.participant", kind))
    for kind in ("Patient", "Practitioner"):
        if len(found[kind]) > 1:
            raise invalid("appointment.participant", f"name one {kind}")
    codes = [
        c.code
        for concept in appointment.serviceType
        for c in concept.coding
        if c.code and c.system in (None, APPOINTMENT_TYPE_SYSTEM)
    ]
    if len(set(codes)) > 1:
        raise invalid("appointment.serviceType", "name one appointment type")
    times = {}
    for name in ("start", "end"):
        value = getattr(appointment, name)
        try:
            times[name] = _INSTANT.validate_python(value) if value is not None else None
        except ValidationError:
            raise invalid(f"appointment.{name}", "must be an instant with an offset") from None
    reasons = [c.text for c in appointment.reasonCode if c.text]
    return Asked(
        appointment,
        (found["Patient"] or [None])[0],
        (found["Practitioner"] or [None])[0],
        found["Location"] + found["Device"],
        times["start"],
        times["end"],
        codes[0] if codes else None,
        reasons[0] if reasons else None,
    )


WRITE_NAMES = {
    "patient_id": "appointment.participant",
    "doctor_id": "appointment.participant",
    "resource_ids": "appointment.participant",
    "start": "appointment.start",
    "duration_minutes": "appointment.end",
    "appointment_type": "appointment.serviceType",
    "reason": "appointment.reasonCode",
}


def _time_request(asked: Asked) -> dict[str, Any]:
    """The native request (POST /holds, POST /appointments) a proposed Appointment with its Patient asks for.
    The site is where the doctor's working hours are at that time: a Location participant that is that site is
    the site; every other Location and Device participant is a room or equipment to take (``resource_ids``)."""
    if asked.patient_id is None or asked.doctor_id is None:
        raise invalid("appointment.participant", "name the Patient and the Practitioner")
    if asked.start is None or asked.end is None or asked.end <= asked.start:
        raise invalid("appointment.start", "give the start and the end of the proposed appointment")
    minutes = int((asked.end - asked.start).total_seconds() // 60)
    doctor, fresh = doctors.for_booking(asked.doctor_id)
    site = None
    for _ in range(2):
        kinds = {t["code"]: t for t in doctor.get("appointment_types") or []}
        chosen = kinds.get(asked.type_code or "")
        try:
            plan = booking.check_bookable(
                doctor,
                asked.start,
                None if chosen else minutes,
                asked.start,
                type_code=asked.type_code if chosen else None,
                policy=booking.Policy(max_advance_days=3650),
                notice_applies=False,
            )
            site = plan.location_id
        except ApiError:
            plan = None  # the booking itself gives the reason (with the rules as they are now)
        if (chosen is None or int(chosen["duration_minutes"]) == minutes) or fresh:
            break
        doctor, fresh = doctors.load(asked.doctor_id), True  # a copy may be older than the type's duration
    if chosen is not None and int(chosen["duration_minutes"]) != minutes:
        raise invalid("appointment.end", "the end must be the start plus the appointment type's duration")
    rooms = [p for p in asked.places if p != site]
    body: dict[str, Any] = {
        "patient_id": asked.patient_id,
        "doctor_id": asked.doctor_id,
        "start": asked.start.isoformat(),
        **({"appointment_type": asked.type_code} if asked.type_code else {"duration_minutes": minutes}),
    }
    if rooms:
        body["resource_ids"] = rooms
    return body


def _require_booker(who: Caller) -> None:
    """Holding and booking: staff, or a patient (for themself, checked by the use case); as POST /holds."""
    if not (who.is_staff or who.is_patient):
        raise Forbidden(detail="your role may not hold or book appointments")


# ---------------------------------------------------------------------- $hold
def hold(parameters: ParametersIn, who: Caller) -> dict[str, Any]:
    """Hold a proposed Appointment for its Patient: POST /holds with the same rules and codes. Answers the
    ``pending`` Appointment whose id is the hold's; it expires as the hold does (extension hold-expires)."""
    audit.act_as("fhir.appointment.hold", answers=200)
    _require_booker(who)
    asked = _appointment(_given(parameters, WRITE_PARAMETERS, strict=False, lenient=False))
    if asked.appointment.status != "proposed":
        raise invalid("appointment.status", "$hold takes a proposed Appointment (from $find)")
    try:
        body = parsing.model(HoldCreate, _time_request(asked))
        try:
            placed = holds.place(body, who)
        except ApiError as refused:
            placed = _own_earlier_hold(body, refused)
    except ApiError as error:
        raise _renamed(error, WRITE_NAMES) from None
    return resources.pending(placed, categories([placed]))


def _own_earlier_hold(body: HoldCreate, refused: ApiError) -> dict[str, Any]:
    """A keyed $hold whose first attempt committed but never answered (its idempotency record is gone with
    the invocation): the time is now taken by that very hold, so answer it rather than a conflict."""
    from clinic.data.holds import HoldStore

    if refused.status != 409 or not in_a_keyed_request():
        raise refused
    earlier = HoldStore().get(new_id("hold"))
    same = earlier is not None and (earlier["patient_id"], earlier["doctor_id"]) == (
        str(body.patient_id),
        str(body.doctor_id),
    )
    if not same or parse_utc(earlier["start_at"]) != body.start:
        raise refused
    return holds.to_out(earlier)


# ---------------------------------------------------------------------- $book
def book(parameters: ParametersIn, who: Caller, base: str | None) -> dict[str, Any]:
    """Book: a ``pending`` Appointment confirms its hold; a ``proposed`` one with its Patient books directly; a
    booked one sent back ``cancelled`` with a ``cancelationReason`` cancels it. Answers a ``collection``
    Bundle holding the Appointment as it now is (id = the native appointment's)."""
    audit.act_as("fhir.appointment.book", answers=200)
    _require_booker(who)
    asked = _appointment(_given(parameters, WRITE_PARAMETERS, strict=False, lenient=False))
    status = asked.appointment.status
    try:
        if status == "pending":
            booked = _confirm(asked, who)
        elif status == "proposed":
            booked = appointments.book(
                parsing.model(AppointmentCreate, {**_time_request(asked), **_reason(asked)}), who
            )
        elif status == "cancelled":
            audit.act_as("fhir.appointment.cancel", answers=200)
            booked = _cancel(asked, who)
        else:
            raise invalid(
                "appointment.status",
                "$book takes a pending Appointment (from $hold), a proposed one (from $find) with its Patient, "
                "or a booked one sent back cancelled",
            )
    except ApiError as error:
        raise _renamed(error, WRITE_NAMES) from None
    appointment = resources.appointment(booked, categories([booked]))
    entry: dict[str, Any] = {"resource": appointment}
    if base:
        entry["fullUrl"] = f"{base}/Appointment/{appointment['id']}"
    return {"resourceType": "Bundle", "type": "collection", "entry": [entry]}


def _reason(asked: Asked) -> dict[str, str]:
    return {"reason": asked.reason} if asked.reason is not None else {}


def _own_id(asked: Asked, kind: str) -> str:
    if not asked.appointment.id:
        raise invalid("appointment.id", f"a {asked.appointment.status} Appointment has the id $hold or $book gave it")
    return require_id(asked.appointment.id, kind)  # not a UUID: no such record (404)


def _confirm(asked: Asked, who: Caller) -> dict[str, Any]:
    """POST /holds/{id}/confirm of the hold the pending Appointment is; what it says must be that hold."""
    hold_id = _own_id(asked, "hold")
    held = holds.get(hold_id, who)  # 404 for a hold the caller has no business with, as on the native route
    mismatch = [
        name
        for name, given, actual in (
            ("appointment.start", asked.start, parse_utc(held["start"])),
            ("appointment.end", asked.end, parse_utc(held["end"])),
            ("appointment.participant", asked.patient_id, held["patient_id"]),
            ("appointment.participant", asked.doctor_id, held["doctor_id"]),
        )
        if given is not None and given != actual
    ]
    if mismatch:
        raise invalid(mismatch[0], "a pending Appointment is its hold: its time and participants are the hold's")
    return holds.confirm(hold_id, parsing.model(HoldConfirm, _reason(asked)), who)


def _cancel(asked: Asked, who: Caller) -> dict[str, Any]:
    """POST /appointments/{id}/cancel of the booked Appointment sent back cancelled, with its reason."""
    appointment_id = _own_id(asked, "appointment")
    reason = asked.appointment.cancelationReason
    text = reason.text if reason else None
    if not text:
        raise invalid("appointment.cancelationReason", "give the reason for cancelling as cancelationReason.text")
    try:
        request = parsing.model(CancelRequest, {"reason": text})
    except ValidationFailed as error:
        raise _renamed(error, {"reason": "appointment.cancelationReason"}) from None
    return appointments.cancel(appointment_id, request, who)
