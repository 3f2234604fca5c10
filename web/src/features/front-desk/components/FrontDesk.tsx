import { useEffect, useId, useState } from "react";
import { Empty, ErrorMessage, Loading, Notice } from "@/components/Status";
import { sentence } from "@/lib/problems";
import { addDays, instantAt, longDate, timeIn, todayIn, zoneLabel } from "@/lib/time";
import { useAsync } from "@/lib/useAsync";
import { daySheet, doctorsAt, freeSlots, listLocations, reschedule, type DayAppointment, type Hold } from "../api";
import { AppointmentPanel } from "./AppointmentPanel";
import { BookingPanel } from "./BookingPanel";
import { DayGrid, patientName, type View } from "./DayGrid";
import { HoldsPanel, type DeskHold } from "./HoldsPanel";
import { TimeOffPanel } from "./TimeOffPanel";
import { WaitlistPanel } from "./WaitlistPanel";

/** The front desk: a location's day, by doctor or by room; book, move, cancel, check in; holds, waitlist, time off. */
export function FrontDesk() {
  const id = useId();
  const locations = useAsync(listLocations, []);
  const [locationId, setLocationId] = useState("");
  const [date, setDate] = useState("");
  const [view, setView] = useState<View>("doctor");
  const [selected, setSelected] = useState<string | null>(null);
  const [booking, setBooking] = useState<{ doctorId: string; start: string } | null>(null);
  const [moving, setMoving] = useState<{ id: string; start: string } | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [holds, setHolds] = useState<DeskHold[]>([]);

  const location = locations.data?.find((l) => l.id === locationId) ?? locations.data?.[0];
  const zone = location?.time_zone ?? "UTC";
  useEffect(() => {
    if (location && !date) setDate(todayIn(location.time_zone));
  }, [location, date]);

  const ready = Boolean(location && date);
  const sheet = useAsync(() => daySheet(location!.id, date), [location?.id, date], ready);
  const slots = useAsync(
    () => freeSlots(location!.id, instantAt(date, "00:00", zone), instantAt(addDays(date, 1), "00:00", zone)),
    [location?.id, date],
    ready,
  );
  const doctors = useAsync(() => doctorsAt(location!.id), [location?.id], Boolean(location));
  const step = Math.min(15, ...(doctors.data ?? []).map((d) => d.slot_minutes));

  const refresh = (message: string | null) => {
    setNotice(message);
    setProblem(null);
    sheet.reload();
    slots.reload();
  };

  const move = async (appointment: DayAppointment, doctorId: string, start: string) => {
    const who = patientName(appointment);
    if (doctorId !== appointment.doctor_id) {
      setProblem(`An appointment keeps its doctor: move ${who}'s appointment within its own doctor's column.`);
      return;
    }
    if (start === appointment.start) return;
    setMoving({ id: appointment.id, start });
    setNotice(null);
    setProblem(null);
    try {
      await reschedule(appointment.id, start);
      refresh(`Moved ${who}'s appointment to ${timeIn(start, zone)}.`);
    } catch (failure) {
      setProblem(`${who}'s appointment stays at ${timeIn(appointment.start, zone)}: ${sentence(failure)}`);
      sheet.reload();
      slots.reload();
    } finally {
      setMoving(null);
    }
  };

  const chosen = sheet.data?.appointments.find((a) => a.id === selected) ?? null;
  const bookingDoctor = booking ? doctors.data?.find((d) => d.id === booking.doctorId) : undefined;

  return (
    <div className="front-desk">
      <h1>Front desk</h1>
      {locations.loading ? <Loading label="Loading locations…" /> : null}
      <ErrorMessage error={locations.error} />
      {locations.data && !locations.data.length ? <Empty>No location yet: staff create them in the API first.</Empty> : null}
      {location ? (
        <>
          <form className="toolbar" aria-label="Choose the day" onSubmit={(e) => e.preventDefault()}>
            <div className="field">
              <label htmlFor={`${id}-location`}>Location</label>
              <select
                id={`${id}-location`}
                value={location.id}
                onChange={(e) => {
                  setLocationId(e.target.value);
                  setSelected(null);
                  setBooking(null);
                }}
              >
                {locations.data?.map((l) => (
                  <option key={l.id} value={l.id}>
                    {l.name}
                  </option>
                ))}
              </select>
            </div>
            <div className="field">
              <label htmlFor={`${id}-date`}>Day</label>
              <input
                id={`${id}-date`}
                type="date"
                value={date}
                onChange={(e) => {
                  if (e.target.value) setDate(e.target.value);
                  setSelected(null);
                  setBooking(null);
                }}
              />
            </div>
            <div className="button-row">
              <button type="button" className="secondary" onClick={() => setDate(addDays(date, -1))}>
                Previous day
              </button>
              <button type="button" className="secondary" onClick={() => setDate(addDays(date, 1))}>
                Next day
              </button>
            </div>
            <fieldset className="view-switch">
              <legend>View</legend>
              <label>
                <input type="radio" name={`${id}-view`} checked={view === "doctor"} onChange={() => setView("doctor")} /> By doctor
              </label>
              <label>
                <input type="radio" name={`${id}-view`} checked={view === "room"} onChange={() => setView("room")} /> By room
              </label>
            </fieldset>
          </form>
          <h2 className="day-title">
            {location.name}, {date ? longDate(date) : ""}{" "}
            <span className="zone">
              Times in {zoneLabel(zone, date ? instantAt(date, "12:00", zone) : new Date())}
              <span className="updating" role="status">
                {sheet.data && (sheet.loading || slots.loading) ? " · updating…" : ""}
              </span>
            </span>
          </h2>
          <div aria-live="polite" className="messages">
            {problem ? (
              <p className="error" role="alert">
                {problem}
              </p>
            ) : null}
            <Notice>{notice}</Notice>
          </div>
          {sheet.loading && !sheet.data ? <Loading label="Loading the day…" /> : null}
          <ErrorMessage error={sheet.error} />
          <ErrorMessage error={slots.error} prefix="Free times could not be loaded:" />
          <div className="desk-layout">
            {sheet.data ? (
              <div className="desk-main" aria-busy={sheet.loading || slots.loading}>
                {sheet.data.appointments.length === 0 ? <Empty>No appointments on this day yet.</Empty> : null}
                <DayGrid
                  sheet={sheet.data}
                  slots={view === "doctor" ? (slots.data ?? []) : []}
                  view={view}
                  step={Number.isFinite(step) ? step : 15}
                  moving={moving}
                  onSelect={(a) => {
                    setSelected(a.id);
                    setBooking(null);
                  }}
                  onBook={(doctorId, start) => {
                    setBooking({ doctorId, start });
                    setSelected(null);
                  }}
                  onMove={move}
                />
                <p className="hint">
                  Drag a booked appointment to a free time in its doctor's column to move it, or open it and choose
                  “Move to a free time”.
                </p>
              </div>
            ) : null}
            <div className="desk-side">
              {chosen && sheet.data ? (
                <AppointmentPanel
                  key={chosen.id + chosen.status + chosen.start}
                  appointment={chosen}
                  sheet={sheet.data}
                  slots={slots.data ?? []}
                  onChanged={(message) => refresh(message)}
                  onMove={move}
                  onClose={() => setSelected(null)}
                />
              ) : null}
              {booking && bookingDoctor ? (
                <BookingPanel
                  key={booking.doctorId + booking.start}
                  doctor={bookingDoctor}
                  start={booking.start}
                  zone={zone}
                  onBooked={(message) => {
                    setBooking(null);
                    refresh(message);
                  }}
                  onHeld={(hold: Hold, patient) => {
                    setHolds((all) => [
                      { hold, patient, doctorName: `Dr ${bookingDoctor.given_name} ${bookingDoctor.family_name}`, zone },
                      ...all,
                    ]);
                    setBooking(null);
                    refresh(`Held ${timeIn(hold.start, zone)} for ${patient.given_name} ${patient.family_name} until ${timeIn(hold.expires_at, zone)}.`);
                  }}
                  onClose={() => setBooking(null)}
                />
              ) : null}
            </div>
          </div>
          {sheet.data ? (
            <div className="desk-extras">
              <details>
                <summary>Holds placed at this desk ({holds.length})</summary>
                <HoldsPanel
                  holds={holds}
                  onChange={(hold) => setHolds((all) => all.map((h) => (h.hold.id === hold.id ? { ...h, hold } : h)))}
                  onDone={refresh}
                />
              </details>
              <details>
                <summary>Waitlist</summary>
                <WaitlistPanel sheet={sheet.data} doctors={doctors.data ?? []} onDone={refresh} />
              </details>
              <details>
                <summary>Doctors' time off</summary>
                {/* keyed by the day: its form starts on the day shown, whichever day the desk moves to */}
                <TimeOffPanel key={sheet.data.date} sheet={sheet.data} doctors={doctors.data ?? []} onDone={refresh} />
              </details>
            </div>
          ) : null}
        </>
      ) : null}
    </div>
  );
}
