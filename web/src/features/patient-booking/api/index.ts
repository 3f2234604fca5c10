import { api, call, type Schemas } from "@/lib/api/client";
import { after, allPages } from "@/lib/api/pages";

export type Location = Schemas["LocationOut"];
export type Doctor = Schemas["DoctorOut"];
export type Slot = Schemas["EarliestSlot"];
export type Hold = Schemas["HoldOut"];
export type Appointment = Schemas["AppointmentOut"];

const key = () => ({ "Idempotency-Key": crypto.randomUUID() });

export function listLocations(): Promise<Location[]> {
  return allPages((next) => call(api().GET("/locations", { params: { query: { limit: 100, ...after(next) } } })));
}

// every doctor: the specialties and visit types offered come from all of them
export function listDoctors(): Promise<Doctor[]> {
  return allPages((next) => call(api().GET("/doctors", { params: { query: { limit: 100, ...after(next) } } })));
}

export async function earliest(query: { from: string; to: string; specialty?: string; location_id?: string; appointment_type?: string }): Promise<Slot[]> {
  return (await call(api().GET("/availability", { params: { query: { ...query, limit: 10 } } }))).items;
}

export function hold(body: Schemas["HoldCreate"]): Promise<Hold> {
  return call(api().POST("/holds", { body }));
}

export function confirm(holdId: string, reason: string): Promise<Appointment> {
  return call(
    api().POST("/holds/{hold_id}/confirm", {
      params: { path: { hold_id: holdId }, header: key() },
      body: reason.trim() ? { reason } : {},
    }),
  );
}

export function release(holdId: string) {
  return call(api().DELETE("/holds/{hold_id}", { params: { path: { hold_id: holdId } } }));
}

export async function myAppointments(patientId: string): Promise<Appointment[]> {
  return (
    await call(
      api().GET("/patients/{patient_id}/appointments", { params: { path: { patient_id: patientId }, query: { limit: 100 } } }),
    )
  ).items;
}

export function cancel(appointmentId: string, reason: string) {
  return call(
    api().POST("/appointments/{appointment_id}/cancel", {
      params: { path: { appointment_id: appointmentId }, header: key() },
      body: { reason },
    }),
  );
}
