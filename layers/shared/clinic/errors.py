"""Domain and API errors. Each carries what its problem+json answer needs; ``clinic.api`` maps them once."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class FieldError:
    field: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message}


@dataclass
class ApiError(Exception):
    """An error the client may see: status, stable code, a short title and a safe detail."""

    detail: str = ""
    errors: list[FieldError] = field(default_factory=list)
    status = 500
    code = "INTERNAL_ERROR"
    title = "Internal error"
    headers: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:  # never includes patient data: detail is written by us, not echoed input
        return f"{self.code}: {self.detail}"


class MalformedJson(ApiError):
    status, code, title = 400, "MALFORMED_JSON", "Malformed JSON"


class Forbidden(ApiError):
    status, code, title = 403, "FORBIDDEN", "Forbidden"


class NotFound(ApiError):
    status, code, title = 404, "NOT_FOUND", "Not found"


class PayloadTooLarge(ApiError):
    status, code, title = 413, "PAYLOAD_TOO_LARGE", "Payload too large"


class UnsupportedMediaType(ApiError):
    status, code, title = 415, "UNSUPPORTED_MEDIA_TYPE", "Unsupported media type"


class ValidationFailed(ApiError):
    status, code, title = 422, "VALIDATION_ERROR", "Validation error"


class OutsideWorkingHours(ApiError):
    status, code, title = 422, "OUTSIDE_WORKING_HOURS", "Outside working hours"


class TooSoon(ApiError):
    status, code, title = 422, "TOO_SOON", "Too soon"


class DoctorAway(ApiError):
    status, code, title = 422, "DOCTOR_AWAY", "Doctor away"


class TooLateToChange(ApiError):
    status, code, title = 409, "TOO_LATE_TO_CHANGE", "Too late to change"


class TooManyAppointments(ApiError):
    status, code, title = 409, "TOO_MANY_APPOINTMENTS", "Too many appointments"


class HoldExpired(ApiError):
    status, code, title = 409, "HOLD_EXPIRED", "Hold expired"


class SlotUnavailable(ApiError):
    status, code, title = 409, "SLOT_UNAVAILABLE", "Slot unavailable"


class PatientUnavailable(ApiError):
    status, code, title = 409, "PATIENT_UNAVAILABLE", "Patient unavailable"


class InvalidTransition(ApiError):
    status, code, title = 409, "INVALID_TRANSITION", "Invalid transition"


class ServiceUnavailable(ApiError):
    status, code, title = 503, "SERVICE_UNAVAILABLE", "Service unavailable"


def invalid(field_name: str, message: str) -> ValidationFailed:
    """A 422 for one field, the common case."""
    return ValidationFailed(detail=message, errors=[FieldError(field_name, message)])


class IdempotencyKeyReused(ApiError):
    status, code, title = 422, "IDEMPOTENCY_KEY_REUSED", "Idempotency key reused"


class IdempotencyInProgress(ApiError):
    status, code, title = 409, "IDEMPOTENCY_IN_PROGRESS", "Idempotency key in progress"


class TooEarly(ApiError):
    status, code, title = 409, "TOO_EARLY", "Too early"


class TooManyHolds(ApiError):
    status, code, title = 409, "TOO_MANY_HOLDS", "Too many holds"


class TooManyWaitlistEntries(ApiError):
    status, code, title = 409, "TOO_MANY_WAITLIST_ENTRIES", "Too many waitlist entries"


class ResourceUnavailable(ApiError):
    status, code, title = 409, "RESOURCE_UNAVAILABLE", "Resource unavailable"
