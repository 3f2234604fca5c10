import { useEffect, useState } from "react";
import { Loading } from "@/components/Status";
import { SignIn } from "@/features/auth";
import { DoctorDay } from "@/features/doctor-day";
import { FrontDesk } from "@/features/front-desk";
import { PatientBooking } from "@/features/patient-booking";
import { configureApi } from "@/lib/api/client";
import { signOut, useSession, type Session } from "@/lib/auth/session";
import { loadConfig, type AppConfig } from "@/lib/config";

const ROLE_NAMES = { staff: "Front desk", doctor: "Doctor", patient: "Patient" } as const;

function View({ session }: { session: Session }) {
  if (session.role === "staff") return <FrontDesk />;
  if (!session.recordId) return <p className="error">This account is not linked to a {session.role} record.</p>;
  return session.role === "doctor" ? <DoctorDay doctorId={session.recordId} /> : <PatientBooking patientId={session.recordId} />;
}

/** The app: its settings, then sign-in, then the view of the signed-in role. Features are composed here only. */
export function App() {
  const [config, setConfig] = useState<AppConfig | null>(null);
  const [failed, setFailed] = useState<string | null>(null);
  const session = useSession();
  useEffect(() => {
    loadConfig().then(
      (found) => {
        configureApi(found.api_url);
        setConfig(found);
      },
      (error: unknown) => setFailed(error instanceof Error ? error.message : "The app could not start."),
    );
  }, []);

  if (failed) {
    return (
      <main id="main">
        <h1>Clinic appointments</h1>
        <p className="error" role="alert">
          {failed}
        </p>
      </main>
    );
  }
  if (!config) {
    return (
      <main id="main">
        <Loading label="Starting…" />
      </main>
    );
  }
  if (!session) return <SignIn config={config} />;
  return (
    <>
      <a className="skip-link" href="#main">
        Skip to the content
      </a>
      <header className="app-header">
        <p className="app-name">Clinic appointments</p>
        <p className="app-role">{ROLE_NAMES[session.role]}</p>
        <button type="button" className="secondary" onClick={() => signOut("You have signed out.")}>
          Sign out
        </button>
      </header>
      <main id="main" tabIndex={-1}>
        <View session={session} />
      </main>
    </>
  );
}
