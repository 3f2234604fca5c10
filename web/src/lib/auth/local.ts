// Locally: the local stack's own sign-in page (/_local/sign-in, never deployed) makes a local token for
// the role and record chosen there and hands it to this page by postMessage.
import { signInWindow } from "./popup";
import { sessionFromToken, type Session } from "./session";

interface LocalTokenMessage {
  type: "clinic-local-token";
  token: string;
}

export async function signInLocally(signInUrl: string): Promise<Session> {
  const message = await signInWindow<LocalTokenMessage>(signInUrl, "clinic-local-token", "clinic-sign-in");
  const session = sessionFromToken(message.token);
  if (!session) throw new Error("That token carries no role this app knows.");
  return session;
}
