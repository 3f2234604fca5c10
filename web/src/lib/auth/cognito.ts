// In AWS: the pool's hosted sign-in, authorization code with PKCE (S256). The verifier and state live
// in this function's memory only; the code comes back from /app/callback.html by postMessage and is
// exchanged here for the tokens. The ID token is the API's bearer token (its groups are the roles).
import type { PoolConfig } from "../config";
import { signInWindow } from "./popup";
import { sessionFromToken, type Session } from "./session";

interface CallbackMessage {
  type: "clinic-oauth-callback";
  code: string | null;
  state: string | null;
  error: string | null;
}

function base64url(bytes: Uint8Array): string {
  let text = "";
  for (const byte of bytes) text += String.fromCharCode(byte);
  return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function randomString(): string {
  return base64url(crypto.getRandomValues(new Uint8Array(32)));
}

export async function signInWithCognito(pool: PoolConfig, redirectUri: string): Promise<Session> {
  const verifier = randomString();
  const state = randomString();
  const challenge = base64url(new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier))));
  const authorize = new URL("/oauth2/authorize", pool.domain);
  authorize.search = new URLSearchParams({
    response_type: "code",
    client_id: pool.client_id,
    redirect_uri: redirectUri,
    scope: "openid email",
    state,
    code_challenge: challenge,
    code_challenge_method: "S256",
  }).toString();
  const answer = await signInWindow<CallbackMessage>(authorize.toString(), "clinic-oauth-callback", "clinic-sign-in");
  if (answer.error || !answer.code) throw new Error("Sign-in was not completed.");
  if (answer.state !== state) throw new Error("Sign-in answered for another request; please try again.");
  const response = await fetch(new URL("/oauth2/token", pool.domain), {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "authorization_code",
      client_id: pool.client_id,
      code: answer.code,
      redirect_uri: redirectUri,
      code_verifier: verifier,
    }),
  });
  if (!response.ok) throw new Error("Sign-in could not be completed. Please try again.");
  const tokens = (await response.json()) as { id_token?: string };
  const session = tokens.id_token ? sessionFromToken(tokens.id_token) : null;
  if (!session) throw new Error("This account has no role in the clinic's app.");
  return session;
}
