// Starts the real API (HTTP + websocket) on a free port against a test database, and speaks
// GraphQL to it the way the dashboard and integrations do.
import { buildApp } from "../../api/src/app.ts";
import { createLogger } from "@steward/core/logger";
import type { CoreDeps } from "@steward/core/deps";
import type { Env } from "@steward/core/env";
import type { Logger } from "@steward/core/logger";
import { createTestDatabase, type TestDatabase } from "./database.ts";
import { testEnv } from "./env.ts";

export interface GraphQLResponse<Data = Record<string, unknown>> {
  status: number;
  data?: Data;
  errors?: { message: string; extensions?: { code?: string } }[];
  setCookie: string | null;
}

export interface TestApi {
  url: string;
  env: Env;
  /** The API process's core dependencies: tests call core functions with them (or a copy with fakes). */
  deps: CoreDeps;
  database: TestDatabase;
  graphql<Data = Record<string, unknown>>(
    query: string,
    variables?: Record<string, unknown>,
    auth?: { cookie?: string; bearer?: string },
  ): Promise<GraphQLResponse<Data>>;
  /** Logs in and returns the Cookie header value for the session. */
  loginCookie(email: string, password: string): Promise<string>;
  stop(): Promise<void>;
}

export async function startTestApi(
  envOverrides: Record<string, string> = {},
  options: { logger?: Logger } = {},
): Promise<TestApi> {
  const database = await createTestDatabase();
  const env = testEnv(database.url, envOverrides);
  const app = buildApp(env, options.logger ?? createLogger("api-test", env.LOG_LEVEL));
  const url = await app.start();

  const graphql: TestApi["graphql"] = async (query, variables, auth) => {
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (auth?.cookie) headers.cookie = auth.cookie;
    if (auth?.bearer) headers.authorization = `Bearer ${auth.bearer}`;
    const response = await fetch(`${url}/graphql`, {
      method: "POST",
      headers,
      body: JSON.stringify({ query, variables }),
    });
    const body = (await response.json()) as { data?: never; errors?: never };
    return {
      status: response.status,
      data: body.data,
      errors: body.errors,
      setCookie: response.headers.get("set-cookie"),
    };
  };

  return {
    url,
    env,
    deps: app.deps,
    database,
    graphql,
    async loginCookie(email, password) {
      const result = await graphql(
        `
          mutation ($email: String!, $password: String!) {
            login(email: $email, password: $password) {
              __typename
            }
          }
        `,
        { email, password },
      );
      const cookie = result.setCookie?.split(";")[0];
      if (!cookie) throw new Error(`login failed: ${JSON.stringify(result)}`);
      return cookie;
    },
    async stop() {
      await app.stop();
      await database.drop();
    },
  };
}
