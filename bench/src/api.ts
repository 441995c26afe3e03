// What the benchmarks and drills do against a Steward API: the environment of an API (or worker)
// process of their own, and signing in.
import { BENCH_RATE_LIMITS } from "./env.ts";

/** The environment of a benchmark's API or worker process on `port`, on its own Redis prefix. */
export function benchProcessEnv(databaseUrl: string, label: string, port: number) {
  return {
    NODE_ENV: "test",
    LOG_LEVEL: "warn",
    DATABASE_URL: databaseUrl,
    REDIS_URL: process.env.REDIS_URL ?? "redis://127.0.0.1:6379/0",
    REDIS_PREFIX: `bench-${label}-${process.pid}`,
    ...BENCH_RATE_LIMITS,
    API_PORT: String(port),
  };
}

const LOGIN = `mutation ($email: String!, $password: String!) { login(email: $email, password: $password) { __typename } }`;

/** Signs in through the API's own login mutation; the session cookie to send with every request. */
export async function signIn(apiUrl: string, email: string, password: string): Promise<string> {
  const response = await fetch(`${apiUrl}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ query: LOGIN, variables: { email, password } }),
  });
  const cookie = response.headers.get("set-cookie")?.split(";")[0];
  if (!cookie) throw new Error(`${email} could not sign in at ${apiUrl}: HTTP ${response.status}`);
  return cookie;
}
