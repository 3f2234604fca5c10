// Times are shown in a named zone (the location's, or the doctor's), never the browser's own, and every
// view says which zone it uses. Instants go to the API as UTC with Z.
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(zone: string, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = zone + JSON.stringify(options);
  let found = formatters.get(key);
  if (!found) {
    found = new Intl.DateTimeFormat("en-GB", { timeZone: zone, ...options });
    formatters.set(key, found);
  }
  return found;
}

function parts(instant: Date, zone: string): Record<string, number> {
  const out: Record<string, number> = {};
  const found = formatter(zone, {
    hourCycle: "h23",
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  }).formatToParts(instant);
  for (const part of found) {
    if (part.type !== "literal") out[part.type] = Number(part.value);
  }
  return out;
}

const pad = (n: number): string => String(n).padStart(2, "0");

/** "HH:MM" of an instant in a zone. */
export function timeIn(iso: string, zone: string): string {
  const p = parts(new Date(iso), zone);
  return `${pad(p.hour ?? 0)}:${pad(p.minute ?? 0)}`;
}

/** "YYYY-MM-DD" of an instant in a zone. */
export function dateIn(iso: string | Date, zone: string): string {
  const p = parts(typeof iso === "string" ? new Date(iso) : iso, zone);
  return `${p.year}-${pad(p.month ?? 1)}-${pad(p.day ?? 1)}`;
}

export function todayIn(zone: string): string {
  return dateIn(new Date(), zone);
}

/** The instant (ISO, UTC) at which the wall clock in `zone` shows `date` `time`. */
export function instantAt(date: string, time: string, zone: string): string {
  const [y, m, d] = date.split("-").map(Number);
  const [hh, mm] = time.split(":").map(Number);
  const wall = Date.UTC(y ?? 1970, (m ?? 1) - 1, d ?? 1, hh ?? 0, mm ?? 0);
  let guess = wall;
  for (let i = 0; i < 3; i += 1) {
    const p = parts(new Date(guess), zone);
    const shown = Date.UTC(p.year ?? 1970, (p.month ?? 1) - 1, p.day ?? 1, p.hour ?? 0, p.minute ?? 0, p.second ?? 0);
    guess += wall - shown;
  }
  return new Date(guess).toISOString().replace(".000Z", "Z");
}

export function addDays(date: string, days: number): string {
  const [y, m, d] = date.split("-").map(Number);
  const next = new Date(Date.UTC(y ?? 1970, (m ?? 1) - 1, (d ?? 1) + days));
  return next.toISOString().slice(0, 10);
}

/** "Wednesday 9 December 2026" for a YYYY-MM-DD date. */
export function longDate(date: string): string {
  return formatter("UTC", { weekday: "long", day: "numeric", month: "long", year: "numeric" }).format(
    new Date(`${date}T12:00:00Z`),
  );
}

/** "Wed 9 Dec, 09:15" of an instant in a zone. */
export function dateTimeIn(iso: string, zone: string): string {
  return formatter(zone, { weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).format(
    new Date(iso),
  );
}

/** "America/New_York (EST)": the zone's name and its abbreviation on that day. */
export function zoneLabel(zone: string, at: string | Date = new Date()): string {
  const name = new Intl.DateTimeFormat("en-US", { timeZone: zone, timeZoneName: "short" })
    .formatToParts(typeof at === "string" ? new Date(at) : at)
    .find((p) => p.type === "timeZoneName")?.value;
  return name ? `${zone} (${name})` : zone;
}

/** Minutes since local midnight of an instant in a zone. */
export function minutesIn(iso: string, zone: string): number {
  const p = parts(new Date(iso), zone);
  return (p.hour ?? 0) * 60 + (p.minute ?? 0);
}
