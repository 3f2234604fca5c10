// The front desk's calls. Types come from the generated schema; nothing here describes a request by hand.
import { api, call, type Schemas } from "@/lib/api/client";
import { after, allPages } from "@/lib/api/pages";

export type Location = Schemas["LocationOut"];
export type DaySheet = Schemas["DaySheet"];
export type DayAppointment = Schemas["DayAppointment"];
export type Doctor = Schemas["DoctorOut"];
export type Patient = Schemas["PatientOut"];
export type Hold = Schemas["HoldOut"];
export type WaitlistEntry = Schemas["WaitlistEntryOut"];
export type TimeOff = Schemas["TimeOffOut"];
export type TimeOffCreated = Schemas["TimeOffCreated"];
export type Slot = Schemas["EarliestSlot"];
export type PatientCreate = Schemas["PatientCreate"];
export type AppointmentCreate = Schemas["AppointmentCreate"];
export type HoldCreate = Schemas["HoldCreate"];
export type WaitlistCreate = Schemas["WaitlistCreate"];
export type TimeOffCreate = Schemas["TimeOffCreate"];
export type PatientSearch = Schemas["PatientSearch"];

const key = () => ({ "Idempotency-Key": crypto.randomUUID() });

export function listLocations(): Promise<Location[]> {
  return allPages((next) => call(api().GET("/locations", { params: { query: { limit: 100, ...after(next) } } })));
}

export function daySheet(locationId: string, date: string): Promise<DaySheet> {
  return call(api().GET("/locations/{location_id}/day", { params: { path: { location_id: locationId }, query: { date } } }));
}

export function doctorsAt(locationId: string): Promise<Doctor[]> {
  return allPages((next) =>
    call(api().GET("/doctors", { params: { query: { location_id: locationId, limit: 100, ...after(next) } } })),
  );
}

/** Every free slot at a location in [from, to), each doctor's own grid slots (paged through). */
export function freeSlots(locationId: string, from: string, to: string): Promise<Slot[]> {
  return allPages(
    (next) =>
      call(api().GET("/availability", { params: { query: { from, to, location_id: locationId, limit: 100, ...after(next) } } })),
    20,
  );
}

export async function searchPatients(criteria: PatientSearch): Promise<Patient[]> {
  const page = await call(api().POST("/patients/search", { body: { ...criteria, limit: 20 } }));
  return page.items;
}

export function registerPatient(body: PatientCreate): Promise<Patient> {
  return call(api().POST("/patients", { body, params: { header: key() } }));
}

export function book(body: AppointmentCreate) {
  return call(api().POST("/appointments", { body, params: { header: key() } }));
}

export function reschedule(appointmentId: string, start: string) {
  return call(api().PATCH("/appointments/{appointment_id}", { params: { path: { appointment_id: appointmentId } }, body: { start } }));
}

export function setStatus(appointmentId: string, status: "arrived" | "fulfilled" | "noshow") {
  return call(api().PATCH("/appointments/{appointment_id}", { params: { path: { appointment_id: appointmentId } }, body: { status } }));
}

export function cancel(appointmentId: string, reason: string) {
  return call(
    api().POST("/appointments/{appointment_id}/cancel", {
      params: { path: { appointment_id: appointmentId }, header: key() },
      body: { reason },
    }),
  );
}

export function placeHold(body: HoldCreate): Promise<Hold> {
  return call(api().POST("/holds", { body }));
}

export function getHold(holdId: string): Promise<Hold> {
  return call(api().GET("/holds/{hold_id}", { params: { path: { hold_id: holdId } } }));
}

export function confirmHold(holdId: string, reason?: string) {
  return call(
    api().POST("/holds/{hold_id}/confirm", {
      params: { path: { hold_id: holdId }, header: key() },
      body: reason ? { reason } : {},
    }),
  );
}

export function releaseHold(holdId: string) {
  return call(api().DELETE("/holds/{hold_id}", { params: { path: { hold_id: holdId } } }));
}

export function joinWaitlist(body: WaitlistCreate): Promise<WaitlistEntry> {
  return call(api().POST("/waitlist", { body }));
}

export async function waitlistOf(patientId: string): Promise<WaitlistEntry[]> {
  const page = await call(
    api().GET("/patients/{patient_id}/waitlist", { params: { path: { patient_id: patientId }, query: { limit: 100 } } }),
  );
  return page.items;
}

export function leaveWaitlist(entryId: string) {
  return call(api().DELETE("/waitlist/{entry_id}", { params: { path: { entry_id: entryId } } }));
}

export function enterTimeOff(doctorId: string, body: TimeOffCreate): Promise<TimeOffCreated> {
  return call(api().POST("/doctors/{doctor_id}/time-off", { params: { path: { doctor_id: doctorId } }, body }));
}

export async function timeOffOf(doctorId: string, from: string, to: string): Promise<TimeOff[]> {
  const page = await call(
    api().GET("/doctors/{doctor_id}/time-off", { params: { path: { doctor_id: doctorId }, query: { from, to, limit: 100 } } }),
  );
  return page.items;
}

export function deleteTimeOff(doctorId: string, timeOffId: string) {
  return call(
    api().DELETE("/doctors/{doctor_id}/time-off/{time_off_id}", {
      params: { path: { doctor_id: doctorId, time_off_id: timeOffId } },
    }),
  );
}
