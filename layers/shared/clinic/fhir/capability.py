"""The CapabilityStatement (``GET /fhir/metadata``): exactly what the FHIR view supports. Pure.

The search parameters listed here are the ones ``clinic.services.fhir`` reads (``SEARCHES``, shared with
the functions); a test checks every resource, interaction and parameter against the routes.
"""

from __future__ import annotations

from typing import Any

from clinic.fhir import FHIR_JSON, FHIR_VERSION, IHE_OPERATIONS

PUBLISHED = "2026-12-07"  # when this statement last changed (CapabilityStatement.date)
SPEC = "http://hl7.org/fhir/SearchParameter"
COUNT = ("_count", "number", None, "Page size: 1 to 100, default 20.")

# resource → (interactions, [(name, type, definition, documentation)], documentation)
RESOURCES: dict[str, tuple[tuple[str, ...], list[tuple[str, str, str | None, str]], str]] = {
    "Patient": (("read",), [], "A patient's record: the same access and audit as GET /patients/{id}."),
    "Practitioner": (("read",), [], "A doctor (any signed-in user)."),
    "Schedule": (
        ("read", "search-type"),
        [
            (
                "actor",
                "reference",
                f"{SPEC}/Schedule-actor",
                "Practitioner/<id> (a doctor's Schedule), Location/<id> (a room's) or Device/<id> (a device's). "
                "Required.",
            ),
            COUNT,
        ],
        "One Schedule per doctor, room and device, with its id (any signed-in user).",
    ),
    "Slot": (
        ("search-type",),
        [
            ("schedule", "reference", f"{SPEC}/Slot-schedule", "Schedule/<id>. Required."),
            (
                "start",
                "date",
                f"{SPEC}/Slot-start",
                "A lower (ge, gt, sa, eq) and an upper (lt, le, eb, eq) bound on the slot's start, at most 14 "
                "days apart. Required.",
            ),
            ("status", "token", f"{SPEC}/Slot-status", "Only free slots are offered: free, or nothing."),
            (
                "service-type",
                "token",
                f"{SPEC}/Slot-service-type",
                "A code of the doctor's appointment types: slots of that type's length, with its buffers free.",
            ),
            COUNT,
        ],
        "Free bookable times, computed like GET /doctors/{id}/availability (any signed-in user).",
    ),
    "Appointment": (
        ("read", "search-type"),
        [
            (
                "patient",
                "reference",
                f"{SPEC}/Appointment-patient",
                "Patient/<id>: that patient's appointments, every status (staff, the patient).",
            ),
            (
                "practitioner",
                "reference",
                f"{SPEC}/Appointment-practitioner",
                "Practitioner/<id>: that doctor's appointments that are not cancelled; needs date bounds at most "
                "31 days apart (staff, the doctor).",
            ),
            (
                "date",
                "date",
                f"{SPEC}/Appointment-date",
                "Bounds on the appointment's start (prefixes eq, ge, gt, le, lt, sa, eb).",
            ),
            COUNT,
        ],
        "Read: the same access and audit as GET /appointments/{id}. Search: give patient or practitioner; pages "
        "follow link next. Operations $find, $hold and $book (IHE ITI Scheduling): the native rules, codes, access "
        "and audit; $hold and $book take an Idempotency-Key.",
    ),
    "Location": (
        ("read", "search-type"),
        [
            ("partof", "reference", f"{SPEC}/Location-partof", "Location/<site id>: that site's rooms."),
            COUNT,
        ],
        "A site (physicalType si) or a room (physicalType ro, partOf its site); the search lists every site, then "
        "every room, by name; pages follow link next (any signed-in user).",
    ),
    "Device": (("read",), [], "A piece of equipment; location is its site (any signed-in user)."),
}

# resource → its operations: (name, the IHE ITI Scheduling OperationDefinition, documentation)
OPERATIONS: dict[str, list[tuple[str, str, str]]] = {
    "Appointment": [
        (
            "find",
            f"{IHE_OPERATIONS}/appointment-find",
            "ITI-115. Parameters start, end (required), specialty, location, practitioner, visit-type, _count, "
            "_page_token → a searchset Bundle of proposed Appointments, one per free slot as GET /availability "
            "finds them, with total. Any signed-in user.",
        ),
        (
            "hold",
            f"{IHE_OPERATIONS}/appointment-hold",
            "ITI-116. Parameters appointment: a proposed Appointment with its Patient participant → the pending "
            "Appointment (its id the hold's; it expires as the hold does). Staff, or the patient for themself.",
        ),
        (
            "book",
            f"{IHE_OPERATIONS}/appointment-book",
            "ITI-117. Parameters appointment: a pending Appointment (confirms the hold), a proposed one with its "
            "Patient (books it), or a booked one sent back cancelled with a cancelationReason (cancels it) → a "
            "collection Bundle holding the Appointment. Staff, or the patient for themself.",
        ),
    ],
}


def _resource(kind: str) -> dict[str, Any]:
    interactions, parameters, documentation = RESOURCES[kind]
    resource: dict[str, Any] = {
        "type": kind,
        "profile": f"http://hl7.org/fhir/StructureDefinition/{kind}",
        "documentation": documentation,
        "interaction": [{"code": code} for code in interactions],
        "versioning": "no-version",
        "readHistory": False,
        "updateCreate": False,
    }
    if parameters:
        resource["searchParam"] = []
        for name, kind_of, definition, text in parameters:
            parameter = {"name": name, "type": kind_of, "documentation": text}
            if definition:
                parameter["definition"] = definition
            resource["searchParam"].append(parameter)
    if kind in OPERATIONS:
        resource["operation"] = [
            {"name": name, "definition": definition, "documentation": text}
            for name, definition, text in OPERATIONS[kind]
        ]
    return resource


def statement(base_url: str | None, *, version: str, cors: bool) -> dict[str, Any]:
    """This server's CapabilityStatement (an ``instance``: the service at ``base_url``)."""
    implementation: dict[str, Any] = {
        "description": "Clinic appointments service: a FHIR R4 view, with the IHE ITI Scheduling operations"
    }
    if base_url:
        implementation["url"] = base_url
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": PUBLISHED,
        "publisher": "Clinic appointments service",
        "kind": "instance",
        "software": {"name": "clinic-appointments", "version": version},
        "implementation": implementation,
        "fhirVersion": FHIR_VERSION,
        "format": ["json", FHIR_JSON],
        "rest": [
            {
                "mode": "server",
                "documentation": (
                    "Reads and searches; no create, update or delete: appointments are found, held, booked and "
                    "cancelled with the operations $find, $hold and $book on Appointment. Unknown search parameters "
                    "are ignored and reported in the Bundle as a warning "
                    "OperationOutcome (search.mode outcome), or refused with 400 under Prefer: handling=strict. Errors "
                    "are OperationOutcome with the native API's HTTP status."
                ),
                "security": {
                    "cors": cors,
                    "service": [
                        {
                            "coding": [
                                {
                                    "system": "http://terminology.hl7.org/CodeSystem/restful-security-service",
                                    "code": "OAuth",
                                    "display": "OAuth",
                                }
                            ],
                            "text": "OAuth 2.0 bearer token",
                        }
                    ],
                    "description": (
                        "Every request but GET /metadata needs Authorization: Bearer <token>, a Cognito user-pool ID "
                        "token (OpenID Connect): staff and doctors from the workforce pool, patients from the patient "
                        "pool; the token's group is the role. Not SMART on FHIR: no SMART scopes or launch context."
                    ),
                },
                "resource": [_resource(kind) for kind in RESOURCES],
            }
        ],
    }
