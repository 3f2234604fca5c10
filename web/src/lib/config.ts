// Where the API is and how to sign in: /app/config.json, written by the local stack (auth "local") or by
// the deployment next to the site's files (auth "cognito"). Nothing in it is a secret.
export interface PoolConfig {
  /** The hosted sign-in's origin, e.g. https://clinic-….auth.us-east-1.amazoncognito.com */
  domain: string;
  client_id: string;
}

export type AppConfig =
  | { auth: "local"; api_url: string; sign_in_url: string }
  | {
      auth: "cognito";
      api_url: string;
      redirect_uri: string;
      pools: { workforce: PoolConfig; patients: PoolConfig };
    };

export async function loadConfig(): Promise<AppConfig> {
  const response = await fetch(`${import.meta.env.BASE_URL}config.json`, { cache: "no-store" });
  if (!response.ok) {
    throw new Error(`The app's settings could not be loaded (HTTP ${response.status}).`);
  }
  return (await response.json()) as AppConfig;
}
