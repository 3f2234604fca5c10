import { useId, useState, type FormEvent } from "react";
import { describedBy, Field } from "@/components/Field";
import { Empty, ErrorMessage } from "@/components/Status";
import { fieldMessages } from "@/lib/problems";
import { addDays, dateTimeIn, instantAt } from "@/lib/time";
import { useAsync } from "@/lib/useAsync";
import { deleteTimeOff, enterTimeOff, timeOffOf, type DaySheet, type Doctor, type TimeOffCreated } from "../api";

const KINDS = ["vacation", "sick", "training", "personal", "closure", "other"] as const;

/** A doctor's time off: enter it (the answer lists the booked appointments it overlaps), see it, delete it. */
export function TimeOffPanel({ sheet, doctors, onDone }: { sheet: DaySheet; doctors: Doctor[]; onDone: (message: string) => void }) {
  const id = useId();
  const zone = sheet.time_zone;
  const [doctorId, setDoctorId] = useState("");
  const [form, setForm] = useState({ startDate: sheet.date, startTime: "12:00", endDate: sheet.date, endTime: "13:00", kind: "personal" as (typeof KINDS)[number] });
  const [error, setError] = useState<unknown>(null);
  const [created, setCreated] = useState<TimeOffCreated | null>(null);
  const [busy, setBusy] = useState(false);
  const chosen = doctorId || doctors[0]?.id || "";
  const from = instantAt(sheet.date, "00:00", zone);
  const to = instantAt(addDays(sheet.date, 7), "00:00", zone);
  const list = useAsync(() => timeOffOf(chosen, from, to), [chosen, from, to], Boolean(chosen));
  const errors = fieldMessages(error);

  const act = async (work: () => Promise<unknown>, message: string) => {
    setBusy(true);
    setError(null);
    try {
      await work();
      list.reload();
      onDone(message);
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };
  const submit = (event: FormEvent) => {
    event.preventDefault();
    void act(async () => {
      setCreated(
        await enterTimeOff(chosen, {
          start: instantAt(form.startDate, form.startTime, zone),
          end: instantAt(form.endDate, form.endTime, zone),
          kind: form.kind,
        }),
      );
    }, "Time off entered.");
  };
  if (!doctors.length) return <Empty>No doctor works at this location.</Empty>;
  return (
    <div>
      <form onSubmit={submit} aria-label="Enter time off" className="inline-form">
        <Field id={`${id}-doctor`} label="Doctor">
          <select id={`${id}-doctor`} value={chosen} onChange={(e) => setDoctorId(e.target.value)}>
            {doctors.map((d) => (
              <option key={d.id} value={d.id}>
                Dr {d.given_name} {d.family_name}
              </option>
            ))}
          </select>
        </Field>
        <Field id={`${id}-sd`} label={`Starts (date, ${zone})`} error={errors.start}>
          <input id={`${id}-sd`} type="date" value={form.startDate} onChange={(e) => setForm({ ...form, startDate: e.target.value })} {...describedBy(`${id}-sd`, errors.start)} />
        </Field>
        <Field id={`${id}-st`} label="Starts (time)">
          <input id={`${id}-st`} type="time" value={form.startTime} onChange={(e) => setForm({ ...form, startTime: e.target.value })} />
        </Field>
        <Field id={`${id}-ed`} label={`Ends (date, ${zone})`} error={errors.end}>
          <input id={`${id}-ed`} type="date" value={form.endDate} onChange={(e) => setForm({ ...form, endDate: e.target.value })} {...describedBy(`${id}-ed`, errors.end)} />
        </Field>
        <Field id={`${id}-et`} label="Ends (time)">
          <input id={`${id}-et`} type="time" value={form.endTime} onChange={(e) => setForm({ ...form, endTime: e.target.value })} />
        </Field>
        <Field id={`${id}-kind`} label="Kind" error={errors.kind}>
          <select id={`${id}-kind`} value={form.kind} onChange={(e) => setForm({ ...form, kind: e.target.value as (typeof KINDS)[number] })}>
            {KINDS.map((k) => (
              <option key={k} value={k}>
                {k}
              </option>
            ))}
          </select>
        </Field>
        <button type="submit" disabled={busy}>
          Enter time off
        </button>
      </form>
      <ErrorMessage error={error} shown={["start", "end", "kind"]} />
      {created ? (
        <p role="status" className="notice">
          {created.affected_appointments.length
            ? `${created.affected_appointments.length} booked appointment(s) overlap this time off and must be moved: ${created.affected_appointments
                .map((a) => dateTimeIn(a.start, zone))
                .join(", ")}.`
            : "No booked appointment overlaps this time off."}
        </p>
      ) : null}
      <h3>Time off in the week from {sheet.date}</h3>
      <ErrorMessage error={list.error} />
      {list.data && !list.data.length ? <Empty>None.</Empty> : null}
      {list.data?.length ? (
        <ul className="cards">
          {list.data.map((t) => (
            <li key={t.id} className="card">
              <p>
                {t.kind}: {dateTimeIn(t.start, zone)} to {dateTimeIn(t.end, zone)}
              </p>
              <button type="button" className="secondary" disabled={busy} onClick={() => act(() => deleteTimeOff(chosen, t.id), "Time off deleted.")}>
                Delete time off
              </button>
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}
