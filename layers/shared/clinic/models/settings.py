"""The clinic-wide settings (GET/PATCH /settings): booking policy, holds, the waitlist, reminders."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from clinic.models.common import PartialUpdate, ResponseModel

# field: (minimum, maximum, default, what it does) — API.md "Clinic settings"
BOUNDS: dict[str, tuple[int, int, int, str]] = {
    "min_notice_minutes": (0, 10080, 0, "A patient cannot book or hold a start earlier than now + this (TOO_SOON)."),
    "max_advance_days": (1, 730, 365, "Nobody books, holds or reschedules to a start further ahead than this."),
    "patient_change_cutoff_minutes": (
        0,
        10080,
        0,
        "A patient cannot cancel an appointment starting within this (TOO_LATE_TO_CHANGE).",
    ),
    "max_open_appointments_per_patient": (
        1,
        100,
        20,
        "A patient never has more open appointments than this (TOO_MANY_APPOINTMENTS).",
    ),
    "hold_minutes": (1, 60, 5, "How long a hold lasts."),
    "waitlist_offer_minutes": (5, 1440, 60, "How long a waitlist offer (a hold) lasts."),
    "reminder_lead_minutes": (0, 10080, 1440, "When the reminder event fires before a booked appointment; 0 = none."),
    "doctor_access_days": (
        1,
        3650,
        365,
        "A doctor reads a patient's record while an appointment with them is booked or arrived, or started"
        " within this many days.",
    ),
    "max_holds_per_patient": (
        1,
        20,
        2,
        "A patient never has more live holds placed with POST /holds (TOO_MANY_HOLDS).",
    ),
    "max_waitlist_entries_per_patient": (
        1,
        50,
        5,
        "A patient never has more waitlist entries waiting or offered (TOO_MANY_WAITLIST_ENTRIES).",
    ),
}
DEFAULTS = {name: default for name, (_, _, default, _) in BOUNDS.items()}


def _field(name: str, optional: bool):
    low, high, default, description = BOUNDS[name]
    return Field(default=None if optional else default, ge=low, le=high, description=description)


class SettingsUpdate(PartialUpdate):
    """A partial update: only the fields present change."""

    min_notice_minutes: int | None = _field("min_notice_minutes", True)
    max_advance_days: int | None = _field("max_advance_days", True)
    patient_change_cutoff_minutes: int | None = _field("patient_change_cutoff_minutes", True)
    max_open_appointments_per_patient: int | None = _field("max_open_appointments_per_patient", True)
    hold_minutes: int | None = _field("hold_minutes", True)
    waitlist_offer_minutes: int | None = _field("waitlist_offer_minutes", True)
    reminder_lead_minutes: int | None = _field("reminder_lead_minutes", True)
    doctor_access_days: int | None = _field("doctor_access_days", True)
    max_holds_per_patient: int | None = _field("max_holds_per_patient", True)
    max_waitlist_entries_per_patient: int | None = _field("max_waitlist_entries_per_patient", True)


class SettingsOut(ResponseModel):
    min_notice_minutes: int = _field("min_notice_minutes", False)
    max_advance_days: int = _field("max_advance_days", False)
    patient_change_cutoff_minutes: int = _field("patient_change_cutoff_minutes", False)
    max_open_appointments_per_patient: int = _field("max_open_appointments_per_patient", False)
    hold_minutes: int = _field("hold_minutes", False)
    waitlist_offer_minutes: int = _field("waitlist_offer_minutes", False)
    reminder_lead_minutes: int = _field("reminder_lead_minutes", False)
    doctor_access_days: int = _field("doctor_access_days", False)
    max_holds_per_patient: int = _field("max_holds_per_patient", False)
    max_waitlist_entries_per_patient: int = _field("max_waitlist_entries_per_patient", False)
    updated_at: datetime | None = Field(default=None, description="When staff last changed them; null: defaults")
