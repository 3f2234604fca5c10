import { useState } from "react";
import { signInWithCognito } from "@/lib/auth/cognito";
import { signInLocally } from "@/lib/auth/local";
import { signIn, useSignOutNotice } from "@/lib/auth/session";
import type { AppConfig } from "@/lib/config";
import { ErrorMessage, Notice } from "@/components/Status";

/** Sign-in: the local stack's sign-in page locally, a Cognito pool's hosted sign-in in AWS. */
export function SignIn({ config }: { config: AppConfig }) {
  const notice = useSignOutNotice();
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const start = async (how: () => Promise<Parameters<typeof signIn>[0]>) => {
    setBusy(true);
    setError(null);
    try {
      signIn(await how());
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };

  return (
    <main className="sign-in" id="main">
      <h1>Clinic appointments</h1>
      <Notice>{notice}</Notice>
      {config.auth === "local" ? (
        <>
          <p>
            This is the local stack. Its sign-in page makes a local token for a role and a record; the token
            stays in this page's memory.
          </p>
          <button type="button" disabled={busy} onClick={() => start(() => signInLocally(config.sign_in_url))}>
            Sign in
          </button>
        </>
      ) : (
        <>
          <p>Sign in with your clinic account. Staff and doctors confirm with their authenticator app.</p>
          <div className="button-row">
            <button
              type="button"
              disabled={busy}
              onClick={() => start(() => signInWithCognito(config.pools.workforce, config.redirect_uri))}
            >
              Sign in as staff or doctor
            </button>
            <button
              type="button"
              disabled={busy}
              onClick={() => start(() => signInWithCognito(config.pools.patients, config.redirect_uri))}
            >
              Sign in as a patient
            </button>
          </div>
        </>
      )}
      <ErrorMessage error={error} />
    </main>
  );
}
