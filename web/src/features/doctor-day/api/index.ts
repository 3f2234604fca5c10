import { api, call, type Schemas } from "@/lib/api/client";
import { after, allPages } from "@/lib/api/pages";

export type Doctor = Schemas["DoctorOut"];
export type Appointment = Schemas["AppointmentOut"];
export type Patient = Schemas["PatientOut"];
export type Location = Schemas["LocationOut"];

export function getDoctor(doctorId: string): Promise<Doctor> {
  return call(api().GET("/doctors/{doctor_id}", { params: { path: { doctor_id: doctorId } } }));
}

export function listLocations(): Promise<Location[]> {
  return allPages((next) => call(api().GET("/locations", { params: { query: { limit: 100, ...after(next) } } })));
}

export async function schedule(doctorId: string, from: string, to: string): Promise<Appointment[]> {
  const items: Appointment[] = [];
  let next: string | undefined;
  for (let page = 0; page < 10; page += 1) {
    const found = await call(
      api().GET("/doctors/{doctor_id}/schedule", {
        params: { path: { doctor_id: doctorId }, query: { from, to, limit: 100, ...(next ? { next_token: next } : {}) } },
      }),
    );
    items.push(...found.items);
    if (!found.next_token) break;
    next = found.next_token;
  }
  return items;
}

export function getPatient(patientId: string): Promise<Patient> {
  return call(api().GET("/patients/{patient_id}", { params: { path: { patient_id: patientId } } }));
}

export function setStatus(appointmentId: string, status: "arrived" | "fulfilled" | "noshow") {
  return call(api().PATCH("/appointments/{appointment_id}", { params: { path: { appointment_id: appointmentId } }, body: { status } }));
}
