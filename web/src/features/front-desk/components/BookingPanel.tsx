import { useId, useState, type FormEvent } from "react";
import { describedBy, Field } from "@/components/Field";
import { ErrorMessage } from "@/components/Status";
import { fieldMessages } from "@/lib/problems";
import { timeIn } from "@/lib/time";
import { book, placeHold, type Doctor, type Hold, type Patient } from "../api";
import { PatientFinder } from "./PatientFinder";

interface Props {
  doctor: Doctor;
  start: string;
  zone: string;
  onBooked: (message: string) => void;
  onHeld: (hold: Hold, patient: Patient) => void;
  onClose: () => void;
}

/** Book a free slot (or hold it) for a patient found or registered here. The server decides. */
export function BookingPanel({ doctor, start, zone, onBooked, onHeld, onClose }: Props) {
  const id = useId();
  const [patient, setPatient] = useState<Patient | null>(null);
  const [type, setType] = useState("");
  const [reason, setReason] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const errors = fieldMessages(error);
  const doctorName = `Dr ${doctor.given_name} ${doctor.family_name}`;

  const submit = async (action: "book" | "hold", event?: FormEvent) => {
    event?.preventDefault();
    if (!patient) {
      setError(new Error("Choose or register the patient first."));
      return;
    }
    setBusy(true);
    setError(null);
    const body = {
      patient_id: patient.id,
      doctor_id: doctor.id,
      start,
      ...(type ? { appointment_type: type } : {}),
    };
    try {
      if (action === "book") {
        await book({ ...body, ...(reason.trim() ? { reason } : {}) });
        onBooked(`Booked ${patient.given_name} ${patient.family_name} with ${doctorName} at ${timeIn(start, zone)}.`);
      } else {
        onHeld(await placeHold(body), patient);
      }
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="panel" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>
        Book {timeIn(start, zone)} with {doctorName}
      </h2>
      <p className="hint">Times in {zone}.</p>
      <PatientFinder chosen={patient} onChoose={setPatient} />
      {errors.patient_id ? <p className="field-error">{errors.patient_id}</p> : null}
      <form onSubmit={(event) => submit("book", event)} aria-label="Appointment details">
        <Field id={`${id}-type`} label="Visit type" error={errors.appointment_type}>
          <select id={`${id}-type`} value={type} onChange={(e) => setType(e.target.value)} {...describedBy(`${id}-type`, errors.appointment_type)}>
            <option value="">Standard visit ({doctor.slot_minutes} min)</option>
            {(doctor.appointment_types ?? []).map((t) => (
              <option key={t.code} value={t.code}>
                {t.name} ({t.duration_minutes} min{t.resource_kinds?.length ? `, needs ${t.resource_kinds.join(" and ")}` : ""})
              </option>
            ))}
          </select>
        </Field>
        {errors.start ? <p className="field-error">Time: {errors.start}</p> : null}
        <Field id={`${id}-reason`} label="Reason (optional)" error={errors.reason}>
          <textarea id={`${id}-reason`} value={reason} rows={2} onChange={(e) => setReason(e.target.value)} {...describedBy(`${id}-reason`, errors.reason)} />
        </Field>
        <ErrorMessage error={error} shown={["appointment_type", "reason", "start", "patient_id"]} />
        <div className="button-row">
          <button type="submit" disabled={busy}>
            Book appointment
          </button>
          <button type="button" className="secondary" disabled={busy} onClick={() => submit("hold")}>
            Hold for the patient
          </button>
          <button type="button" className="secondary" onClick={onClose}>
            Close
          </button>
        </div>
      </form>
    </section>
  );
}
