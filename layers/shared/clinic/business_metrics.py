"""Every business metric the code emits with ``observability.count``, by dashboard widget, and the
values of the dimensions it carries. The operations dashboard is generated from this catalogue
(infra/generate.py), and tests/template/test_operations.py checks it against the ``count(...)``
calls in the code, both ways: a metric emitted but not listed, or listed but never emitted, fails.
"""

from __future__ import annotations

from clinic.events import CATALOGUE

WIDGETS: dict[str, tuple[str, ...]] = {
    "Patients and doctors": ("PatientRegistered", "PatientUpdated", "DoctorCreated", "DoctorUpdated"),
    "Locations and resources": ("LocationCreated", "LocationUpdated", "ResourceCreated", "ResourceUpdated"),
    "Appointments": ("AppointmentBooked", "AppointmentRescheduled", "AppointmentCancelled", "AppointmentStatusChanged"),
    "Booking conflicts, storage and audit failures": (
        "BookingConflict",
        "StorageUnavailable",
        "AuditWriteFailed",
        "AuditTampered",
    ),
    "Calendar": ("TimeOffCreated", "TimeOffDeleted", "SeriesBooked", "SeriesCancelled", "SettingsUpdated"),
    "Holds and waitlist": (
        "HoldPlaced",
        "HoldConfirmed",
        "HoldReleased",
        "HoldExpired",
        "WaitlistJoined",
        "WaitlistLeft",
        "WaitlistOfferMade",
    ),
    "Events and reminders": ("EventPublished", "ReminderSent"),
}

# Metric → dimension → every value the code gives it (one dashboard line per value).
DIMENSIONS: dict[str, dict[str, tuple[str, ...]]] = {
    "AppointmentStatusChanged": {"status": ("arrived", "fulfilled", "noshow")},
    "BookingConflict": {"reason": ("SLOT_UNAVAILABLE", "PATIENT_UNAVAILABLE")},
    # the stream publisher's events; AppointmentReminder is published by SendReminder (ReminderSent)
    "EventPublished": {"detail_type": tuple(t for t in CATALOGUE if t != "AppointmentReminder")},
}


def names() -> set[str]:
    return {name for metrics in WIDGETS.values() for name in metrics}
