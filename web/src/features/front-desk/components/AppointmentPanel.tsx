import { useId, useState, type FormEvent } from "react";
import { describedBy, Field } from "@/components/Field";
import { ErrorMessage } from "@/components/Status";
import { fieldMessages } from "@/lib/problems";
import { timeIn } from "@/lib/time";
import { cancel, setStatus, type DayAppointment, type DaySheet, type Slot } from "../api";
import { patientName } from "./DayGrid";

interface Props {
  appointment: DayAppointment;
  sheet: DaySheet;
  slots: Slot[];
  onChanged: (message: string) => void;
  onMove: (appointment: DayAppointment, doctorId: string, start: string) => void;
  onClose: () => void;
}

const STATUS_WORDS: Record<string, string> = {
  booked: "Booked",
  arrived: "Arrived",
  fulfilled: "Fulfilled",
  noshow: "No-show",
  cancelled: "Cancelled",
};

/** One appointment: its details, its status changes, cancelling with a reason, and moving it by keyboard. */
export function AppointmentPanel({ appointment: a, sheet, slots, onChanged, onMove, onClose }: Props) {
  const id = useId();
  const zone = sheet.time_zone;
  const [reason, setReason] = useState("");
  const [target, setTarget] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const errors = fieldMessages(error);
  const doctor = sheet.doctors.find((d) => d.id === a.doctor_id);
  const doctorName = doctor ? `Dr ${doctor.given_name} ${doctor.family_name}` : "the doctor";
  const rooms = (a.resources ?? []).map((r) => sheet.resources.find((x) => x.id === r.id)?.name ?? r.kind);
  const freeForDoctor = slots.filter((s) => s.doctor_id === a.doctor_id);

  const run = async (work: () => Promise<unknown>, message: string) => {
    setBusy(true);
    setError(null);
    try {
      await work();
      onChanged(message);
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };
  const who = patientName(a);
  const submitCancel = (event: FormEvent) => {
    event.preventDefault();
    void run(() => cancel(a.id, reason), `Cancelled ${who}'s appointment at ${timeIn(a.start, zone)}.`);
  };

  return (
    <section className="panel" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>
        {who}, {timeIn(a.start, zone)}–{timeIn(a.end, zone)}
      </h2>
      <dl className="details">
        <dt>Status</dt>
        <dd>{STATUS_WORDS[a.status] ?? a.status}</dd>
        <dt>Patient</dt>
        <dd>
          {who}, born {a.patient.birth_date}
        </dd>
        <dt>Doctor</dt>
        <dd>{doctorName}</dd>
        <dt>Time</dt>
        <dd>
          {timeIn(a.start, zone)}–{timeIn(a.end, zone)} ({zone})
        </dd>
        <dt>Visit</dt>
        <dd>{a.appointment_type ?? "Standard visit"}</dd>
        <dt>Rooms and equipment</dt>
        <dd>{rooms.length ? rooms.join(", ") : "none"}</dd>
        {a.reason ? (
          <>
            <dt>Reason</dt>
            <dd>{a.reason}</dd>
          </>
        ) : null}
      </dl>
      <div className="button-row" role="group" aria-label="Status">
        {a.status === "booked" ? (
          <>
            <button type="button" disabled={busy} onClick={() => run(() => setStatus(a.id, "arrived"), `${who} has arrived.`)}>
              Mark arrived
            </button>
            <button type="button" disabled={busy} onClick={() => run(() => setStatus(a.id, "noshow"), `${who} is marked as a no-show.`)}>
              Mark no-show
            </button>
          </>
        ) : null}
        {a.status === "arrived" ? (
          <button type="button" disabled={busy} onClick={() => run(() => setStatus(a.id, "fulfilled"), `${who}'s visit is fulfilled.`)}>
            Mark fulfilled
          </button>
        ) : null}
        <button type="button" className="secondary" onClick={onClose}>
          Close
        </button>
      </div>
      {a.status === "booked" ? (
        <>
          <form
            className="inline-form"
            aria-label="Move the appointment"
            onSubmit={(event) => {
              event.preventDefault();
              if (target) onMove(a, a.doctor_id, target);
            }}
          >
            <Field id={`${id}-move`} label="Move to a free time" error={errors.start}>
              <select id={`${id}-move`} value={target} onChange={(e) => setTarget(e.target.value)}>
                <option value="">Choose a time…</option>
                {freeForDoctor.map((s) => (
                  <option key={s.start} value={s.start}>
                    {timeIn(s.start, zone)}
                  </option>
                ))}
              </select>
            </Field>
            <button type="submit" disabled={busy || !target}>
              Move
            </button>
          </form>
          <form className="inline-form" aria-label="Cancel the appointment" onSubmit={submitCancel}>
            <Field id={`${id}-reason`} label="Reason for cancelling" error={errors.reason}>
              <input
                id={`${id}-reason`}
                value={reason}
                autoComplete="off"
                aria-required="true"
                onChange={(e) => setReason(e.target.value)}
                {...describedBy(`${id}-reason`, errors.reason)}
              />
            </Field>
            <button type="submit" disabled={busy} className="danger">
              Cancel appointment
            </button>
          </form>
        </>
      ) : null}
      <ErrorMessage error={error} shown={["reason"]} />
    </section>
  );
}
