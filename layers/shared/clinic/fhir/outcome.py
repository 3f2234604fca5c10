"""Errors and warnings as OperationOutcome. Pure.

An error the function answers keeps its HTTP status and headers (e.g. ``Retry-After`` on a 503); its body
is an OperationOutcome: one ``issue`` per field error (or one for the whole error), each with ``severity``
``error``, FHIR's issue ``code`` for the status, ``details`` carrying the native API's stable code (system
``ERROR_CODE_SYSTEM``) and title, and ``diagnostics`` — the same safe text the native problem+json
``detail``/``errors[]`` give (written by the service, never echoing what the client sent).
"""

from __future__ import annotations

from typing import Any

from clinic.errors import ApiError
from clinic.fhir import ERROR_CODE_SYSTEM

# The native stable codes → FHIR IssueType (required binding), for the errors a FHIR route can give.
ISSUE_TYPES = {
    "MALFORMED_JSON": "structure",
    "UNAUTHENTICATED": "login",
    "FORBIDDEN": "forbidden",
    "NOT_FOUND": "not-found",
    "PAYLOAD_TOO_LARGE": "too-long",
    "UNSUPPORTED_MEDIA_TYPE": "not-supported",
    "VALIDATION_ERROR": "invalid",
    "SERVICE_UNAVAILABLE": "transient",
    "INTERNAL_ERROR": "exception",
}


def issue_type(error: ApiError) -> str:
    """FHIR's IssueType for an error: its own when it names one, else by its code, else by its status."""
    own = getattr(error, "fhir_issue", None)
    if own:
        return own
    if error.code in ISSUE_TYPES:
        return ISSUE_TYPES[error.code]
    if error.status == 409:
        return "conflict"  # a time no longer free, a hold expired, a transition refused: the native 409s
    if error.status == 422:
        return "processing"  # a booking rule refused it (OUTSIDE_WORKING_HOURS, TOO_SOON, DOCTOR_AWAY, ...)
    return "business-rule" if error.status < 500 else "exception"


def of_error(error: ApiError) -> dict[str, Any]:
    """The OperationOutcome of an error."""
    details = {
        "coding": [{"system": ERROR_CODE_SYSTEM, "code": error.code, "display": error.title}],
        "text": error.title,
    }
    kind = issue_type(error)
    texts = [f"{e.field}: {e.message}" for e in error.errors] or [error.detail or error.title]
    return {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": kind, "details": details, "diagnostics": text} for text in texts],
    }


def ignored_parameters(names: list[str] | tuple[str, ...]) -> dict[str, Any]:
    """The warning a lenient search gives for the parameters it ignored."""
    return {
        "resourceType": "OperationOutcome",
        "issue": [
            {
                "severity": "warning",
                "code": "not-supported",
                "diagnostics": f"search parameter {name} is not supported and was ignored",
            }
            for name in names
        ],
    }
