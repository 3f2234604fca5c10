// The server's refusals, said as sentences a receptionist, a doctor or a patient can act on. The
// server's own detail follows: it names what was in the way (e.g. "doctor already booked 09:00-09:30").
import { ApiError } from "./api/client";

const SENTENCES: Record<string, string> = {
  SLOT_UNAVAILABLE: "That time is no longer free: the doctor is already booked or held then.",
  PATIENT_UNAVAILABLE: "The patient already has an appointment or hold at that time.",
  RESOURCE_UNAVAILABLE: "No room or equipment of the kind this visit needs is free at that time.",
  OUTSIDE_WORKING_HOURS: "That time is outside the doctor's working hours.",
  DOCTOR_AWAY: "The doctor is away at that time.",
  TOO_SOON: "That time is too soon to book online; please choose a later time or call the clinic.",
  TOO_LATE_TO_CHANGE: "It is too late to change this appointment online; please call the clinic.",
  TOO_MANY_APPOINTMENTS: "The patient already has as many open appointments as the clinic allows.",
  TOO_MANY_HOLDS: "The patient already holds as many times as the clinic allows; confirm or release one first.",
  TOO_MANY_WAITLIST_ENTRIES: "The patient is already on as many waitlists as the clinic allows.",
  HOLD_EXPIRED: "The hold has expired, and the time was released. Please choose a time again.",
  INVALID_TRANSITION: "The appointment's status does not allow that any more.",
  TOO_EARLY: "That status can't be set yet: it is before the appointment's time.",
  FORBIDDEN: "You are not allowed to do that.",
  NOT_FOUND: "That record was not found, or you have no access to it.",
  VALIDATION_ERROR: "Some of what was entered was not accepted.",
  SERVICE_UNAVAILABLE: "The service is busy. Please try again in a moment.",
  THROTTLED: "Too many requests. Please wait a minute and try again.",
};

/** The refusal as sentences; field messages not shown next to a field (`shown`) are said here. */
export function sentence(error: unknown, shown: string[] = []): string {
  if (error instanceof ApiError) {
    const lead = SENTENCES[error.code] ?? (error.title ? `${error.title}.` : "The request was refused.");
    const isShown = (field: string) => shown.includes(field) || shown.includes(field.split(".").pop() ?? field);
    const others = error.errors.filter((e) => !isShown(e.field));
    if (others.length) {
      return `${lead} ${others.map((e) => `${e.field.replace(/_/g, " ")}: ${e.message}.`).join(" ")}`;
    }
    return error.detail && !error.errors.length ? `${lead} (${error.detail})` : lead;
  }
  return error instanceof Error ? error.message : "Something went wrong.";
}

/** Messages by field name, for showing next to the fields the server names. */
export function fieldMessages(error: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (error instanceof ApiError) {
    for (const problem of error.errors) {
      const name = problem.field.split(".").pop() ?? problem.field;
      out[problem.field] = problem.message;
      out[name] ??= problem.message;
    }
  }
  return out;
}
