import { useId, useState, type FormEvent } from "react";
import { describedBy, Field } from "@/components/Field";
import { Empty, ErrorMessage, Loading } from "@/components/Status";
import { fieldMessages } from "@/lib/problems";
import { dateTimeIn, instantAt } from "@/lib/time";
import { useAsync } from "@/lib/useAsync";
import { confirmHold, joinWaitlist, leaveWaitlist, waitlistOf, type DaySheet, type Doctor, type Patient } from "../api";
import { PatientFinder } from "./PatientFinder";

/** A patient's waitlist entries (and offers), and adding them to a doctor's waitlist for a window of the day. */
export function WaitlistPanel({ sheet, doctors, onDone }: { sheet: DaySheet; doctors: Doctor[]; onDone: (message: string) => void }) {
  const id = useId();
  const zone = sheet.time_zone;
  const [patient, setPatient] = useState<Patient | null>(null);
  const [doctorId, setDoctorId] = useState("");
  const [from, setFrom] = useState("09:00");
  const [to, setTo] = useState("17:00");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const entries = useAsync(() => waitlistOf(patient?.id ?? ""), [patient?.id], Boolean(patient));
  const errors = fieldMessages(error);
  const chosenDoctor = doctorId || doctors[0]?.id || "";

  const act = async (work: () => Promise<unknown>, message: string) => {
    setBusy(true);
    setError(null);
    try {
      await work();
      entries.reload();
      onDone(message);
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };
  const add = (event: FormEvent) => {
    event.preventDefault();
    if (!patient) return;
    void act(
      () =>
        joinWaitlist({
          patient_id: patient.id,
          doctor_id: chosenDoctor,
          from: instantAt(sheet.date, from, zone),
          to: instantAt(sheet.date, to, zone),
        }),
      `${patient.given_name} ${patient.family_name} is on the waitlist.`,
    );
  };
  const doctorName = (doctorId: string) => {
    const d = doctors.find((x) => x.id === doctorId);
    return d ? `Dr ${d.given_name} ${d.family_name}` : "a doctor";
  };

  return (
    <div>
      <PatientFinder chosen={patient} onChoose={setPatient} />
      {patient ? (
        <>
          <form onSubmit={add} aria-label="Add to the waitlist" className="inline-form">
            <Field id={`${id}-doctor`} label="Doctor" error={errors.doctor_id}>
              <select id={`${id}-doctor`} value={chosenDoctor} onChange={(e) => setDoctorId(e.target.value)}>
                {doctors.map((d) => (
                  <option key={d.id} value={d.id}>
                    Dr {d.given_name} {d.family_name}
                  </option>
                ))}
              </select>
            </Field>
            <Field id={`${id}-from`} label={`From (${zone})`} error={errors.from}>
              <input id={`${id}-from`} type="time" value={from} onChange={(e) => setFrom(e.target.value)} {...describedBy(`${id}-from`, errors.from)} />
            </Field>
            <Field id={`${id}-to`} label={`To (${zone})`} error={errors.to}>
              <input id={`${id}-to`} type="time" value={to} onChange={(e) => setTo(e.target.value)} {...describedBy(`${id}-to`, errors.to)} />
            </Field>
            <button type="submit" disabled={busy}>
              Add to waitlist
            </button>
          </form>
          {entries.loading ? <Loading label="Loading the waitlist…" /> : null}
          <ErrorMessage error={entries.error} />
          {entries.data && !entries.data.length ? <Empty>{patient.given_name} is on no waitlist.</Empty> : null}
          {entries.data?.length ? (
            <ul className="cards" aria-label="Waitlist entries">
              {entries.data.map((e) => (
                <li key={e.id} className="card">
                  <p>
                    {doctorName(e.doctor_id)}, {dateTimeIn(e.from, zone)} to {dateTimeIn(e.to, zone)} — {e.status}
                    {e.offer ? `: offered ${dateTimeIn(e.offer.start, zone)} until ${dateTimeIn(e.offer.expires_at, zone)}` : ""}
                  </p>
                  <div className="button-row">
                    {e.status === "offered" && e.offer ? (
                      <button type="button" disabled={busy} onClick={() => act(() => confirmHold(e.offer!.hold_id), "The offered time is booked.")}>
                        Book the offered time
                      </button>
                    ) : null}
                    {e.status === "waiting" || e.status === "offered" ? (
                      <button type="button" className="secondary" disabled={busy} onClick={() => act(() => leaveWaitlist(e.id), "Removed from the waitlist.")}>
                        Leave the waitlist
                      </button>
                    ) : null}
                  </div>
                </li>
              ))}
            </ul>
          ) : null}
        </>
      ) : null}
      <ErrorMessage error={error} shown={["doctor_id", "from", "to"]} />
    </div>
  );
}
