import { useId, useState, type FormEvent } from "react";
import { describedBy, Field } from "@/components/Field";
import { Empty, ErrorMessage, Loading } from "@/components/Status";
import { fieldMessages } from "@/lib/problems";
import { registerPatient, searchPatients, type Patient } from "../api";

/** Find a patient by family-name prefix and/or birth date (POST /patients/search: nothing in a URL), or register one. */
export function PatientFinder({ chosen, onChoose }: { chosen: Patient | null; onChoose: (patient: Patient | null) => void }) {
  const id = useId();
  const [prefix, setPrefix] = useState("");
  const [birthDate, setBirthDate] = useState("");
  const [found, setFound] = useState<Patient[] | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [registering, setRegistering] = useState(false);

  const search = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      setFound(
        await searchPatients({ family_name_prefix: prefix.trim() || null, birth_date: birthDate || null, limit: 20 }),
      );
    } catch (failure) {
      setError(failure);
      setFound(null);
    } finally {
      setBusy(false);
    }
  };

  if (chosen) {
    return (
      <div className="chosen-patient">
        <p>
          Patient: <strong>{chosen.given_name} {chosen.family_name}</strong>, born {chosen.birth_date}
        </p>
        <button type="button" className="link" onClick={() => onChoose(null)}>
          Choose another patient
        </button>
      </div>
    );
  }
  if (registering) {
    return <RegisterPatient onDone={(p) => (setRegistering(false), onChoose(p))} onCancel={() => setRegistering(false)} />;
  }
  const errors = fieldMessages(error);
  return (
    <div className="patient-finder">
      <form onSubmit={search} aria-label="Find a patient">
        <div className="field-row">
          <Field id={`${id}-prefix`} label="Family name starts with" error={errors.family_name_prefix}>
            <input
              id={`${id}-prefix`}
              value={prefix}
              autoComplete="off"
              onChange={(e) => setPrefix(e.target.value)}
              {...describedBy(`${id}-prefix`, errors.family_name_prefix)}
            />
          </Field>
          <Field id={`${id}-birth`} label="Birth date" error={errors.birth_date}>
            <input
              id={`${id}-birth`}
              type="date"
              value={birthDate}
              onChange={(e) => setBirthDate(e.target.value)}
              {...describedBy(`${id}-birth`, errors.birth_date)}
            />
          </Field>
        </div>
        <div className="button-row">
          <button type="submit" disabled={busy}>
            Find patient
          </button>
          <button type="button" className="secondary" onClick={() => setRegistering(true)}>
            Register a new patient
          </button>
        </div>
      </form>
      {busy ? <Loading label="Searching…" /> : null}
      <ErrorMessage error={error} shown={["family_name_prefix", "birth_date"]} />
      {found && !busy ? (
        found.length ? (
          <ul className="patient-results" aria-label="Patients found">
            {found.map((p) => (
              <li key={p.id}>
                <button type="button" onClick={() => onChoose(p)}>
                  {p.family_name}, {p.given_name} — born {p.birth_date}
                </button>
              </li>
            ))}
          </ul>
        ) : (
          <Empty>No patient matches. Check the spelling, or register the patient.</Empty>
        )
      ) : null}
    </div>
  );
}

const SEXES = ["female", "male", "other", "unknown"] as const;

function RegisterPatient({ onDone, onCancel }: { onDone: (patient: Patient) => void; onCancel: () => void }) {
  const id = useId();
  const [form, setForm] = useState({ given_name: "", family_name: "", birth_date: "", sex: "unknown" as (typeof SEXES)[number] });
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const errors = fieldMessages(error);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      onDone(await registerPatient(form));
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };
  const text = (name: "given_name" | "family_name", label: string) => (
    <Field id={`${id}-${name}`} label={label} error={errors[name]}>
      <input
        id={`${id}-${name}`}
        value={form[name]}
        autoComplete="off"
        onChange={(e) => setForm({ ...form, [name]: e.target.value })}
        {...describedBy(`${id}-${name}`, errors[name])}
      />
    </Field>
  );
  return (
    <form onSubmit={submit} aria-label="Register a new patient" className="register-patient">
      <div className="field-row">
        {text("given_name", "Given name")}
        {text("family_name", "Family name")}
      </div>
      <div className="field-row">
        <Field id={`${id}-birth`} label="Birth date" error={errors.birth_date}>
          <input
            id={`${id}-birth`}
            type="date"
            value={form.birth_date}
            onChange={(e) => setForm({ ...form, birth_date: e.target.value })}
            {...describedBy(`${id}-birth`, errors.birth_date)}
          />
        </Field>
        <Field id={`${id}-sex`} label="Sex" error={errors.sex}>
          <select id={`${id}-sex`} value={form.sex} onChange={(e) => setForm({ ...form, sex: e.target.value as (typeof SEXES)[number] })}>
            {SEXES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </Field>
      </div>
      <ErrorMessage error={error} shown={["given_name", "family_name", "birth_date", "sex"]} />
      <div className="button-row">
        <button type="submit" disabled={busy}>
          Register
        </button>
        <button type="button" className="secondary" onClick={onCancel}>
          Back to search
        </button>
      </div>
    </form>
  );
}
