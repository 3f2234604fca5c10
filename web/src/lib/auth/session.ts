// The signed-in user's token, kept in this module's memory only: never in a URL, browser storage, a
// cookie or a log. Reloading the page signs the user out.
import { useSyncExternalStore } from "react";

export type Role = "staff" | "doctor" | "patient";

export interface Session {
  token: string;
  role: Role;
  /** custom:doctor_id or custom:patient_id, for doctors and patients */
  recordId: string | null;
  /** milliseconds since the epoch */
  expiresAt: number;
}

const GROUP_ROLES: Record<string, Role> = { staff: "staff", doctors: "doctor", patients: "patient" };

let current: Session | null = null;
let notice: string | null = null;
const listeners = new Set<() => void>();

function emit(): void {
  for (const listener of listeners) listener();
}

function decodePart(part: string): Record<string, unknown> {
  const base64 = part.replace(/-/g, "+").replace(/_/g, "/");
  const padded = base64 + "=".repeat((4 - (base64.length % 4)) % 4);
  const bytes = Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
  return JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>;
}

/** The session a token describes (its claims are read, not verified: the API verifies every call). */
export function sessionFromToken(token: string): Session | null {
  try {
    const claims = decodePart(token.split(".")[1] ?? "");
    const raw = claims["cognito:groups"];
    const groups = Array.isArray(raw) ? raw.map(String) : String(raw ?? "").split(",");
    const role = groups.map((g) => GROUP_ROLES[g.trim()]).find((r): r is Role => r !== undefined);
    if (!role) return null;
    const recordId =
      role === "doctor"
        ? String(claims["custom:doctor_id"] ?? "")
        : role === "patient"
          ? String(claims["custom:patient_id"] ?? "")
          : "";
    return { token, role, recordId: recordId || null, expiresAt: Number(claims.exp ?? 0) * 1000 };
  } catch {
    return null;
  }
}

export function signIn(session: Session): void {
  current = session;
  notice = null;
  emit();
}

export function signOut(reason: string | null = null): void {
  current = null;
  notice = reason;
  emit();
}

export function getSession(): Session | null {
  if (current && current.expiresAt && current.expiresAt <= Date.now()) {
    current = null;
    notice = "Your session has ended. Please sign in again.";
  }
  return current;
}

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function useSession(): Session | null {
  return useSyncExternalStore(subscribe, () => current);
}

export function useSignOutNotice(): string | null {
  return useSyncExternalStore(subscribe, () => notice);
}
