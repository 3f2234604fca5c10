// The one API client: openapi-fetch over the types openapi-typescript generates from the API's own
// OpenAPI document (docs/openapi.json, written by `make openapi`). No request or response type here is
// written by hand. Every call carries the in-memory token; a 401 ends the session.
import createClient, { type Middleware } from "openapi-fetch";
import { getSession, signOut } from "../auth/session";
import type { components, paths } from "./schema";

export type Schemas = components["schemas"];
export type Problem = Schemas["Problem"];
export type FieldProblem = Schemas["FieldProblem"];

const auth: Middleware = {
  onRequest({ request }) {
    const session = getSession();
    if (session) request.headers.set("Authorization", `Bearer ${session.token}`);
    return request;
  },
  onResponse({ response }) {
    if (response.status === 401) signOut("Your session has ended. Please sign in again.");
    return response;
  },
};

function make(baseUrl: string) {
  const client = createClient<paths>({ baseUrl, credentials: "omit", referrerPolicy: "no-referrer" });
  client.use(auth);
  return client;
}

export type ApiClient = ReturnType<typeof make>;

let client: ApiClient = make(window.location.origin);

export function configureApi(baseUrl: string): void {
  client = make(baseUrl || window.location.origin);
}

export function api(): ApiClient {
  return client;
}

/** What the server refused, as sentences: the problem+json body, or a sentence for a network failure. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly title: string;
  readonly detail: string;
  readonly errors: FieldProblem[];

  constructor(status: number, problem: Partial<Problem>) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.code = problem.code ?? "";
    this.title = problem.title ?? "";
    this.detail = problem.detail ?? "";
    this.errors = problem.errors ?? [];
  }

  /** The message for one field (`errors[].field`), e.g. "start" or "family_name". */
  forField(field: string): string | undefined {
    return this.errors.find((e) => e.field === field || e.field.endsWith(`.${field}`))?.message;
  }
}

interface Outcome<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

/** The data of a successful call, or an ApiError with the server's problem (or a network failure). */
export async function call<T>(request: Promise<Outcome<T>>): Promise<T> {
  let outcome: Outcome<T>;
  try {
    outcome = await request;
  } catch {
    throw new ApiError(0, {
      title: "Service unreachable",
      detail: "The clinic's service could not be reached. Check the connection and try again.",
    });
  }
  const { data, error, response } = outcome;
  if (error !== undefined || !response.ok) {
    const problem = (error && typeof error === "object" ? error : {}) as Partial<Problem>;
    throw new ApiError(response.status, problem);
  }
  return data as T;
}
