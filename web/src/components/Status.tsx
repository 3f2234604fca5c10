import type { ReactNode } from "react";
import { sentence } from "@/lib/problems";

export function Loading({ label = "Loading…" }: { label?: string }) {
  return (
    <p className="loading" role="status">
      {label}
    </p>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <p className="empty">{children}</p>;
}

/** A refusal or failure, said as a sentence (announced to screen readers). */
export function ErrorMessage({ error, prefix, shown }: { error: unknown; prefix?: string; shown?: string[] }) {
  if (!error) return null;
  return (
    <p className="error" role="alert">
      {prefix ? `${prefix} ` : ""}
      {sentence(error, shown)}
    </p>
  );
}

export function Notice({ children }: { children: ReactNode }) {
  if (!children) return null;
  return (
    <p className="notice" role="status">
      {children}
    </p>
  );
}
