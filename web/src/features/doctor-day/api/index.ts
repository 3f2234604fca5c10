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

export function schedule(doctorId: string, from: string, to: string): Promise<Appointment[]> {
  return allPages(
    (next) =>
      call(
        api().GET("/doctors/{doctor_id}/schedule", {
          params: { path: { doctor_id: doctorId }, query: { from, to, limit: 100, ...after(next) } },
        }),
      ),
    10,
  );
}

export function getPatient(patientId: string): Promise<Patient> {
  return call(api().GET("/patients/{patient_id}", { params: { path: { patient_id: patientId } } }));
}

export function setStatus(appointmentId: string, status: "arrived" | "fulfilled" | "noshow") {
  return call(api().PATCH("/appointments/{appointment_id}", { params: { path: { appointment_id: appointmentId } }, body: { status } }));
}
