import { useState } from "react";
import { Empty, ErrorMessage } from "@/components/Status";
import { dateTimeIn, timeIn } from "@/lib/time";
import { confirmHold, getHold, releaseHold, type Hold, type Patient } from "../api";

export interface DeskHold {
  hold: Hold;
  patient: Patient;
  doctorName: string;
  zone: string;
}

/** The holds placed at this desk in this session (the API lists no holds by desk): confirm, release, refresh. */
export function HoldsPanel({ holds, onChange, onDone }: { holds: DeskHold[]; onChange: (hold: Hold) => void; onDone: (message: string) => void }) {
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const act = async (work: () => Promise<Hold | undefined>, message: string) => {
    setBusy(true);
    setError(null);
    try {
      const changed = await work();
      if (changed) onChange(changed);
      onDone(message);
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };
  if (!holds.length) return <Empty>No holds placed at this desk yet. Hold a free time from the booking form.</Empty>;
  return (
    <>
      <ul className="cards">
        {holds.map(({ hold, patient, doctorName, zone }) => {
          const who = `${patient.given_name} ${patient.family_name}`;
          return (
            <li key={hold.id} className="card">
              <p>
                <strong>{who}</strong> with {doctorName}, {dateTimeIn(hold.start, zone)} ({zone}) — {hold.status}
                {hold.status === "held" ? `, until ${timeIn(hold.expires_at, zone)}` : ""}
              </p>
              <div className="button-row">
                {hold.status === "held" ? (
                  <>
                    <button
                      type="button"
                      disabled={busy}
                      onClick={() => act(async () => (await confirmHold(hold.id), getHold(hold.id)), `Confirmed ${who}'s held time.`)}
                    >
                      Confirm hold
                    </button>
                    <button
                      type="button"
                      className="secondary"
                      disabled={busy}
                      onClick={() => act(async () => (await releaseHold(hold.id), getHold(hold.id)), `Released ${who}'s hold.`)}
                    >
                      Release hold
                    </button>
                  </>
                ) : null}
                <button type="button" className="secondary" disabled={busy} onClick={() => act(() => getHold(hold.id), "Hold refreshed.")}>
                  Refresh
                </button>
              </div>
            </li>
          );
        })}
      </ul>
      <ErrorMessage error={error} />
    </>
  );
}
