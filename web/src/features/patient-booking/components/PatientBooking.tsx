import { useId, useState, type FormEvent } from "react";
import { describedBy, Field } from "@/components/Field";
import { Empty, ErrorMessage, Loading, Notice } from "@/components/Status";
import { fieldMessages } from "@/lib/problems";
import { addDays, dateTimeIn, instantAt, todayIn, zoneLabel } from "@/lib/time";
import { useAsync } from "@/lib/useAsync";
import { cancel, confirm, earliest, hold, listDoctors, listLocations, myAppointments, release, type Hold, type Slot } from "../api";

/** A patient: the earliest free times by specialty, location and visit type; hold one, confirm it; their appointments. */
export function PatientBooking({ patientId }: { patientId: string }) {
  const id = useId();
  const doctors = useAsync(listDoctors, []);
  const locations = useAsync(listLocations, []);
  const mine = useAsync(() => myAppointments(patientId), [patientId]);
  const [query, setQuery] = useState({ specialty: "", location_id: "", appointment_type: "", from: "" });
  const [slots, setSlots] = useState<Slot[] | null>(null);
  const [searching, setSearching] = useState(false);
  const [held, setHeld] = useState<Hold | null>(null);
  const [reason, setReason] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [notice, setNotice] = useState<string | null>(null);

  const specialties = [...new Set((doctors.data ?? []).map((d) => d.specialty))].sort();
  const types = new Map<string, string>();
  for (const d of doctors.data ?? []) {
    if (query.specialty && d.specialty.toLowerCase() !== query.specialty.toLowerCase()) continue;
    for (const t of d.appointment_types ?? []) types.set(t.code, t.name);
  }
  const doctorOf = (doctorId: string) => doctors.data?.find((d) => d.id === doctorId);
  const locationOf = (locationId: string | null | undefined) => locations.data?.find((l) => l.id === locationId);
  const zoneOf = (slot: { doctor_id: string; location_id?: string | null }) =>
    locationOf(slot.location_id)?.time_zone ?? doctorOf(slot.doctor_id)?.time_zone ?? "UTC";
  const describe = (slot: { start: string; doctor_id: string; location_id?: string | null; appointment_type?: string | null }) => {
    const doctor = doctorOf(slot.doctor_id);
    const zone = zoneOf(slot);
    return {
      when: `${dateTimeIn(slot.start, zone)}`,
      zone: zoneLabel(zone, slot.start),
      who: doctor ? `Dr ${doctor.given_name} ${doctor.family_name} (${doctor.specialty})` : "a doctor",
      where: locationOf(slot.location_id)?.name ?? "",
      what: slot.appointment_type ? (types.get(slot.appointment_type) ?? slot.appointment_type) : "Standard visit",
    };
  };

  const search = async (event?: FormEvent) => {
    event?.preventDefault();
    setSearching(true);
    setError(null);
    const start = query.from ? instantAt(query.from, "00:00", "UTC") : new Date().toISOString();
    const from = start < new Date().toISOString() ? new Date().toISOString() : start;
    try {
      setSlots(
        await earliest({
          from: from.replace(/\.\d{3}Z$/, "Z"),
          to: instantAt(addDays(from.slice(0, 10), 14), "00:00", "UTC"),
          ...(query.specialty ? { specialty: query.specialty } : {}),
          ...(query.location_id ? { location_id: query.location_id } : {}),
          ...(query.appointment_type ? { appointment_type: query.appointment_type } : {}),
        }),
      );
    } catch (failure) {
      setError(failure);
      setSlots(null);
    } finally {
      setSearching(false);
    }
  };

  const act = async (work: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    setNotice(null);
    try {
      await work();
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };

  const holdSlot = (slot: Slot) =>
    act(async () => {
      try {
        const placed = await hold({
          patient_id: patientId,
          doctor_id: slot.doctor_id,
          start: slot.start,
          ...(slot.appointment_type ? { appointment_type: slot.appointment_type } : {}),
        });
        setHeld(placed);
        setNotice(
          `This time is held for you until ${dateTimeIn(placed.expires_at, zoneOf(placed))} ${zoneLabel(zoneOf(placed), placed.expires_at)}. Confirm it to book it.`,
        );
      } catch (failure) {
        void search(); // what is free now
        throw failure;
      }
    });

  const errors = fieldMessages(error);
  const heldView = held ? describe(held) : null;

  return (
    <div className="patient-booking">
      <h1>Book an appointment</h1>
      <form onSubmit={search} aria-label="Find the earliest free time" className="inline-form">
        <Field id={`${id}-specialty`} label="Specialty" error={errors.specialty}>
          <select id={`${id}-specialty`} value={query.specialty} onChange={(e) => setQuery({ ...query, specialty: e.target.value, appointment_type: "" })}>
            <option value="">Any specialty</option>
            {specialties.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </Field>
        <Field id={`${id}-location`} label="Location" error={errors.location_id}>
          <select id={`${id}-location`} value={query.location_id} onChange={(e) => setQuery({ ...query, location_id: e.target.value })}>
            <option value="">Any location</option>
            {locations.data?.map((l) => (
              <option key={l.id} value={l.id}>
                {l.name}
              </option>
            ))}
          </select>
        </Field>
        <Field id={`${id}-type`} label="Visit type" error={errors.appointment_type}>
          <select id={`${id}-type`} value={query.appointment_type} onChange={(e) => setQuery({ ...query, appointment_type: e.target.value })}>
            <option value="">Any visit</option>
            {[...types].map(([code, name]) => (
              <option key={code} value={code}>
                {name}
              </option>
            ))}
          </select>
        </Field>
        <Field id={`${id}-from`} label="From" error={errors.from}>
          <input id={`${id}-from`} type="date" value={query.from} min={todayIn("UTC")} onChange={(e) => setQuery({ ...query, from: e.target.value })} {...describedBy(`${id}-from`, errors.from)} />
        </Field>
        <button type="submit" disabled={searching}>
          Find earliest times
        </button>
      </form>
      <div aria-live="polite" className="messages">
        <ErrorMessage error={error} shown={["specialty", "location_id", "appointment_type", "from", ...(held ? ["reason"] : [])]} />
        <Notice>{notice}</Notice>
      </div>
      {held && heldView ? (
        <section className="panel" aria-labelledby={`${id}-held`}>
          <h2 id={`${id}-held`}>Your held time</h2>
          <p>
            {heldView.when}, {heldView.zone}, with {heldView.who}
            {heldView.where ? ` at ${heldView.where}` : ""}, {heldView.what}.
          </p>
          <form
            className="inline-form"
            aria-label="Confirm the held time"
            onSubmit={(event) => {
              event.preventDefault();
              void act(async () => {
                await confirm(held.id, reason);
                setHeld(null);
                setReason("");
                setNotice(`Your appointment is booked: ${heldView.when}, ${heldView.zone}, with ${heldView.who}.`);
                mine.reload();
                void search();
              });
            }}
          >
            <Field id={`${id}-reason`} label="Reason for the visit (optional)" error={errors.reason}>
              <input id={`${id}-reason`} value={reason} autoComplete="off" onChange={(e) => setReason(e.target.value)} {...describedBy(`${id}-reason`, errors.reason)} />
            </Field>
            <button type="submit" disabled={busy}>
              Confirm appointment
            </button>
            <button
              type="button"
              className="secondary"
              disabled={busy}
              onClick={() =>
                act(async () => {
                  await release(held.id);
                  setHeld(null);
                  setNotice("The held time was released.");
                  void search();
                })
              }
            >
              Release
            </button>
          </form>
        </section>
      ) : null}
      <section aria-labelledby={`${id}-slots`}>
        <h2 id={`${id}-slots`}>Earliest free times</h2>
        {searching ? <Loading label="Searching…" /> : null}
        {slots === null && !searching ? <Empty>Choose what you need and search.</Empty> : null}
        {slots && !slots.length && !searching ? <Empty>No free time in the next 14 days matches. Try another location or visit type.</Empty> : null}
        {slots?.length ? (
          <ul className="cards slots" aria-label="Free times">
            {slots.map((slot) => {
              const v = describe(slot);
              return (
                <li key={`${slot.doctor_id} ${slot.start}`} className="card">
                  <p>
                    <strong>{v.when}</strong> <span className="zone">{v.zone}</span>
                    <br />
                    {v.who}
                    {v.where ? `, ${v.where}` : ""} · {v.what}
                  </p>
                  <button type="button" disabled={busy || Boolean(held)} onClick={() => holdSlot(slot)}>
                    Hold this time<span className="visually-hidden">: {v.when}</span>
                  </button>
                </li>
              );
            })}
          </ul>
        ) : null}
      </section>
      <section aria-labelledby={`${id}-mine`}>
        <h2 id={`${id}-mine`}>My appointments</h2>
        {mine.loading && !mine.data ? <Loading label="Loading your appointments…" /> : null}
        <ErrorMessage error={mine.error} />
        {mine.data && !mine.data.length ? <Empty>You have no appointments.</Empty> : null}
        {mine.data?.length ? (
          <ul className="cards" aria-label="My appointments">
            {mine.data.map((a) => {
              const v = describe(a);
              return (
                <li key={a.id} className="card">
                  <p>
                    <strong>{v.when}</strong> <span className="zone">{v.zone}</span> — {a.status}
                    <br />
                    {v.who}
                    {v.where ? `, ${v.where}` : ""} · {v.what}
                  </p>
                  {a.status === "booked" ? <CancelForm onCancel={(why) => act(async () => (await cancel(a.id, why), mine.reload(), setNotice("Your appointment is cancelled.")))} /> : null}
                </li>
              );
            })}
          </ul>
        ) : null}
      </section>
    </div>
  );
}

function CancelForm({ onCancel }: { onCancel: (reason: string) => void }) {
  const id = useId();
  const [reason, setReason] = useState("");
  return (
    <form
      className="inline-form"
      aria-label="Cancel this appointment"
      onSubmit={(event) => {
        event.preventDefault();
        onCancel(reason);
      }}
    >
      <Field id={`${id}-why`} label="Reason for cancelling">
        <input id={`${id}-why`} value={reason} autoComplete="off" onChange={(e) => setReason(e.target.value)} />
      </Field>
      <button type="submit" className="danger">
        Cancel appointment
      </button>
    </form>
  );
}
