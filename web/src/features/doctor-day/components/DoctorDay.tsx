import { useId, useState } from "react";
import { Empty, ErrorMessage, Loading, Notice } from "@/components/Status";
import { addDays, dateIn, instantAt, longDate, timeIn, todayIn, zoneLabel } from "@/lib/time";
import { useAsync } from "@/lib/useAsync";
import { getDoctor, getPatient, listLocations, schedule, setStatus, type Appointment, type Patient } from "../api";

const STATUS_WORDS: Record<string, string> = { booked: "booked", arrived: "arrived", fulfilled: "fulfilled", noshow: "no-show" };

/** A doctor's own day or week, in their time zone: who comes when, where, and marking arrivals and visits. */
export function DoctorDay({ doctorId }: { doctorId: string }) {
  const id = useId();
  const doctor = useAsync(() => getDoctor(doctorId), [doctorId]);
  const locations = useAsync(listLocations, []);
  const zone = doctor.data?.time_zone ?? "UTC";
  const [date, setDate] = useState("");
  const [span, setSpan] = useState<"day" | "week">("day");
  const [error, setError] = useState<unknown>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const day = date || (doctor.data ? todayIn(zone) : "");
  const days = span === "day" ? 1 : 7;
  const appointments = useAsync(
    async () => {
      const found = await schedule(doctorId, instantAt(day, "00:00", zone), instantAt(addDays(day, days), "00:00", zone));
      const patients = new Map<string, Patient | null>();
      await Promise.all(
        [...new Set(found.map((a) => a.patient_id))].map(async (pid) => {
          patients.set(pid, await getPatient(pid).catch(() => null));
        }),
      );
      return found.map((a) => ({ appointment: a, patient: patients.get(a.patient_id) ?? null }));
    },
    [doctorId, day, days, zone],
    Boolean(doctor.data && day),
  );

  const mark = async (a: Appointment, status: "arrived" | "fulfilled" | "noshow", who: string) => {
    setError(null);
    setNotice(null);
    try {
      await setStatus(a.id, status);
      setNotice(`${who}: ${STATUS_WORDS[status]}.`);
      appointments.reload();
    } catch (failure) {
      setError(failure);
    }
  };

  const byDay = new Map<string, { appointment: Appointment; patient: Patient | null }[]>();
  for (let i = 0; i < days && day; i += 1) byDay.set(addDays(day, i), []);
  for (const item of appointments.data ?? []) byDay.get(dateIn(item.appointment.start, zone))?.push(item);
  const locationName = (locationId: string | null | undefined) => locations.data?.find((l) => l.id === locationId)?.name;

  return (
    <div className="doctor-day">
      <h1>{doctor.data ? `Dr ${doctor.data.given_name} ${doctor.data.family_name}` : "My schedule"}</h1>
      {doctor.loading ? <Loading label="Loading…" /> : null}
      <ErrorMessage error={doctor.error} />
      {doctor.data ? (
        <>
          <form className="toolbar" aria-label="Choose the day" onSubmit={(e) => e.preventDefault()}>
            <div className="field">
              <label htmlFor={`${id}-date`}>Date</label>
              <input id={`${id}-date`} type="date" value={day} onChange={(e) => e.target.value && setDate(e.target.value)} />
            </div>
            <fieldset className="view-switch">
              <legend>Show</legend>
              <label>
                <input type="radio" name={`${id}-span`} checked={span === "day"} onChange={() => setSpan("day")} /> Day
              </label>
              <label>
                <input type="radio" name={`${id}-span`} checked={span === "week"} onChange={() => setSpan("week")} /> Week
              </label>
            </fieldset>
            <div className="button-row">
              <button type="button" className="secondary" onClick={() => setDate(addDays(day, -days))}>
                Previous {span}
              </button>
              <button type="button" className="secondary" onClick={() => setDate(addDays(day, days))}>
                Next {span}
              </button>
            </div>
          </form>
          <p className="zone">Times in {zoneLabel(zone, instantAt(day, "12:00", zone))}</p>
          <div aria-live="polite" className="messages">
            <ErrorMessage error={error} />
            <Notice>{notice}</Notice>
          </div>
          {appointments.loading && !appointments.data ? <Loading label="Loading your schedule…" /> : null}
          <ErrorMessage error={appointments.error} />
          <div className={span === "week" ? "week" : "day"}>
            {[...byDay].map(([d, items]) => (
              <section key={d} aria-labelledby={`${id}-${d}`} className="doctor-date">
                <h2 id={`${id}-${d}`}>{longDate(d)}</h2>
                {appointments.data && !items.length ? <Empty>No appointments.</Empty> : null}
                {items.length ? (<ol className="cards">
                  {items.map(({ appointment: a, patient }) => {
                    const who = patient ? `${patient.given_name} ${patient.family_name}` : "A patient";
                    return (
                      <li key={a.id} className={`card status-${a.status}`}>
                        <p>
                          <strong>
                            {timeIn(a.start, zone)}–{timeIn(a.end, zone)}
                          </strong>{" "}
                          {who}
                          {patient ? `, ${patient.age} years` : ""} · {a.appointment_type ?? "Standard visit"}
                          {locationName(a.location_id) ? ` · ${locationName(a.location_id)}` : ""} · {STATUS_WORDS[a.status] ?? a.status}
                        </p>
                        {a.reason ? <p className="hint">Reason: {a.reason}</p> : null}
                        <div className="button-row">
                          {a.status === "booked" ? (
                            <>
                              <button type="button" onClick={() => mark(a, "arrived", who)}>
                                Mark arrived<span className="visually-hidden">: {who}</span>
                              </button>
                              <button type="button" className="secondary" onClick={() => mark(a, "noshow", who)}>
                                Mark no-show<span className="visually-hidden">: {who}</span>
                              </button>
                            </>
                          ) : null}
                          {a.status === "arrived" ? (
                            <button type="button" onClick={() => mark(a, "fulfilled", who)}>
                              Mark fulfilled<span className="visually-hidden">: {who}</span>
                            </button>
                          ) : null}
                        </div>
                      </li>
                    );
                  })}
                </ol>) : null}
              </section>
            ))}
          </div>
        </>
      ) : null}
    </div>
  );
}
