import { useState, type DragEvent } from "react";
import { instantAt, minutesIn, timeIn } from "@/lib/time";
import type { DayAppointment, DaySheet, Slot } from "../api";

export type View = "doctor" | "room";

interface Column {
  id: string;
  name: string;
  detail: string;
  doctorId: string | null;
}

interface Props {
  sheet: DaySheet;
  slots: Slot[];
  view: View;
  step: number;
  /** An appointment being moved, shown at its new start until the server answers. */
  moving: { id: string; start: string } | null;
  onSelect: (appointment: DayAppointment) => void;
  onBook: (doctorId: string, start: string) => void;
  onMove: (appointment: DayAppointment, doctorId: string, start: string) => void;
}

const hhmm = (minutes: number) => `${String(Math.floor(minutes / 60)).padStart(2, "0")}:${String(minutes % 60).padStart(2, "0")}`;

export function patientName(appointment: DayAppointment): string {
  return `${appointment.patient.given_name} ${appointment.patient.family_name}`;
}

const STATUS: Record<string, string> = {
  booked: "booked",
  arrived: "arrived",
  fulfilled: "fulfilled",
  noshow: "no-show",
  cancelled: "cancelled",
};

/** The day as a table: a row per grid step, a column per doctor (or per room and piece of equipment). */
export function DayGrid({ sheet, slots, view, step, moving, onSelect, onBook, onMove }: Props) {
  const zone = sheet.time_zone;
  const [dragged, setDragged] = useState<DayAppointment | null>(null);
  const appointments = sheet.appointments.map((a) =>
    moving && a.id === moving.id
      ? { ...a, start: moving.start, end: new Date(Date.parse(moving.start) + a.duration_minutes * 60000).toISOString() }
      : a,
  );

  const columns: Column[] =
    view === "doctor"
      ? sheet.doctors.map((d) => ({ id: d.id, name: `Dr ${d.given_name} ${d.family_name}`, detail: d.specialty, doctorId: d.id }))
      : sheet.resources.map((r) => ({ id: r.id, name: r.name, detail: r.kind, doctorId: null }));
  if (view === "room" && appointments.some((a) => (a.resources ?? []).length === 0)) {
    columns.push({ id: "none", name: "No room", detail: "appointments without a room", doctorId: null });
  }
  const inColumn = (a: DayAppointment, column: Column) =>
    view === "doctor"
      ? a.doctor_id === column.id
      : column.id === "none"
        ? (a.resources ?? []).length === 0
        : (a.resources ?? []).some((r) => r.id === column.id);

  // The rows: 08:00–18:00, widened to whatever is booked or free that day.
  const minutes = [
    ...appointments.flatMap((a) => [minutesIn(a.start, zone), minutesIn(a.start, zone) + a.duration_minutes]),
    ...slots.flatMap((s) => [minutesIn(s.start, zone), minutesIn(s.end, zone) || 24 * 60]),
  ];
  const first = Math.floor(Math.min(8 * 60, ...minutes) / step) * step;
  const last = Math.ceil(Math.max(18 * 60, ...minutes) / step) * step;
  const rows: number[] = [];
  for (let m = first; m < Math.min(last, 24 * 60); m += step) rows.push(m);
  const rowOf = (iso: string) => Math.floor((minutesIn(iso, zone) - first) / step);

  const starts = new Map<string, Map<number, DayAppointment[]>>();
  const covered = new Map<string, Set<number>>();
  for (const column of columns) {
    const byRow = new Map<number, DayAppointment[]>();
    const cover = new Set<number>();
    for (const a of appointments.filter((x) => inColumn(x, column))) {
      const row = rowOf(a.start);
      const span = Math.max(1, Math.ceil(a.duration_minutes / step));
      if (cover.has(row)) continue; // cannot overlap in one column; a stray one is listed in its panel
      byRow.set(row, [...(byRow.get(row) ?? []), a]);
      for (let r = row + 1; r < row + span; r += 1) cover.add(r);
    }
    starts.set(column.id, byRow);
    covered.set(column.id, cover);
  }
  const free = new Map<string, Slot>(); // doctor id + row → the free slot starting there
  for (const s of slots) free.set(`${s.doctor_id} ${rowOf(s.start)}`, s);

  const drop = (event: DragEvent, column: Column, minute: number) => {
    event.preventDefault();
    if (dragged && column.doctorId) onMove(dragged, column.doctorId, instantAt(sheet.date, hhmm(minute), zone));
    setDragged(null);
  };

  if (columns.length === 0) {
    return (
      <p className="empty">
        {view === "doctor" ? "No doctor works at this location on this day." : "This location has no rooms or equipment."}
      </p>
    );
  }

  return (
    <div className="grid-scroll">
      <table className="day-grid">
        <caption className="visually-hidden">
          {view === "doctor" ? "Appointments by doctor" : "Appointments by room and equipment"}, times in {zone}
        </caption>
        <thead>
          <tr>
            <th scope="col" className="time-col">
              Time
            </th>
            {columns.map((c) => (
              <th scope="col" key={c.id}>
                {c.name}
                <span className="col-detail">{c.detail}</span>
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((minute, row) => (
            <tr key={minute}>
              <th scope="row" className="time-col">
                {hhmm(minute)}
              </th>
              {columns.map((column) => {
                if (covered.get(column.id)?.has(row)) return null;
                const here = starts.get(column.id)?.get(row);
                if (here?.length) {
                  const span = Math.max(...here.map((a) => Math.ceil(a.duration_minutes / step)));
                  return (
                    <td key={column.id} rowSpan={Math.min(span, rows.length - row)} className="busy">
                      {here.map((a) => (
                        <button
                          type="button"
                          key={a.id}
                          className={`appointment status-${a.status}${moving?.id === a.id ? " is-moving" : ""}`}
                          draggable={view === "doctor" && a.status === "booked"}
                          onDragStart={(event) => {
                            event.dataTransfer.setData("text/plain", a.id);
                            event.dataTransfer.effectAllowed = "move";
                            setDragged(a);
                          }}
                          onDragEnd={() => setDragged(null)}
                          onClick={() => onSelect(a)}
                        >
                          <span className="appt-time">
                            {timeIn(a.start, zone)}–{timeIn(a.end, zone)}
                          </span>{" "}
                          <span className="appt-name">{patientName(a)}</span>
                          {a.appointment_type ? <span className="appt-type"> · {a.appointment_type}</span> : null}
                          <span className="appt-status"> · {STATUS[a.status] ?? a.status}</span>
                        </button>
                      ))}
                    </td>
                  );
                }
                const slot = column.doctorId ? free.get(`${column.doctorId} ${row}`) : undefined;
                return (
                  <td
                    key={column.id}
                    className={slot ? "free" : "closed"}
                    onDragOver={column.doctorId ? (event) => event.preventDefault() : undefined}
                    onDrop={column.doctorId ? (event) => drop(event, column, minute) : undefined}
                    data-slot={slot ? `${column.id} ${hhmm(minute)}` : undefined}
                  >
                    {slot ? (
                      <button type="button" className="free-slot" onClick={() => onBook(slot.doctor_id, slot.start)}>
                        Book {hhmm(minute)}
                        <span className="visually-hidden"> with {column.name}</span>
                      </button>
                    ) : null}
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
