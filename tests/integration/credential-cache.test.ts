// Each API instance remembers who a session cookie or API token belongs to (api/src/sessionCache.ts).
// Revoking on one instance must still be refused on every other within a second: the change is
// pushed over the Redis bus. Two API instances on one database and one Redis key prefix.
import { createLogger } from "@steward/core/logger";
import type { Env } from "@steward/core/env";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApp, type App } from "../../api/src/app.ts";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";
import { testEnv } from "../support/env.ts";
import { createOperator, TEST_PASSWORD } from "../support/fixtures.ts";

let database: TestDatabase;
let env: Env;
const apps: App[] = [];
let urlA: string;
let urlB: string;

async function graphql(
  url: string,
  query: string,
  variables: Record<string, unknown> = {},
  auth: { cookie?: string; bearer?: string } = {},
) {
  const response = await fetch(`${url}/graphql`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...(auth.cookie ? { cookie: auth.cookie } : {}),
      ...(auth.bearer ? { authorization: `Bearer ${auth.bearer}` } : {}),
    },
    body: JSON.stringify({ query, variables }),
  });
  return {
    status: response.status,
    setCookie: response.headers.get("set-cookie"),
    body: (await response.json()) as {
      data?: Record<string, unknown> | null;
      errors?: { message: string; extensions?: { code?: string } }[];
    },
  };
}

async function signIn(email: string): Promise<string> {
  const login = await graphql(
    urlA,
    `
      mutation ($email: String!, $password: String!) {
        login(email: $email, password: $password) {
          __typename
        }
      }
    `,
    { email, password: TEST_PASSWORD },
  );
  const cookie = login.setCookie?.split(";")[0];
  if (!cookie) throw new Error(`login failed: ${JSON.stringify(login.body)}`);
  return cookie;
}

/** Milliseconds until `refused()` holds, polling every 20 ms; fails after 5 s. */
async function msUntil(refused: () => Promise<boolean>): Promise<number> {
  const started = performance.now();
  while (performance.now() - started < 5_000) {
    if (await refused()) return performance.now() - started;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error("never refused within 5 s");
}

const signedInAs = async (url: string, cookie: string) =>
  ((await graphql(url, "{ me { email } }", {}, { cookie })).body.data?.me as { email: string } | null) ?? null;

beforeAll(async () => {
  database = await createTestDatabase();
  env = testEnv(database.url);
  for (let index = 0; index < 2; index++) {
    const app = buildApp(env, createLogger(`api-${index}`, "silent"));
    apps.push(app);
  }
  urlA = await apps[0]!.start();
  urlB = await apps[1]!.start();
  await createOperator(database.db, "ADMIN", "ada@test.example");
  await createOperator(database.db, "ADMIN", "grace@test.example");
  await createOperator(database.db, "OPERATOR", "olive@test.example");
});
afterAll(async () => {
  for (const app of apps) await app.stop();
  await database?.drop();
});

describe("cached credentials across two API instances", () => {
  it("serves a known session from the cache: a revocation that bypasses the API is not seen at once", async () => {
    const cookie = await signIn("olive@test.example");
    expect(await signedInAs(urlB, cookie)).toEqual({ email: "olive@test.example" });
    // Straight in the database, so no instance hears of it: B still answers from what it cached.
    // (This is what makes the next tests' refusals the bus's doing, not a fresh lookup.)
    await database.db.session.updateMany({
      where: { operator: { email: "olive@test.example" } },
      data: { revokedAt: new Date() },
    });
    expect(await signedInAs(urlB, cookie)).toEqual({ email: "olive@test.example" });
  });

  it("refuses a session signed out on the other instance within a second", async () => {
    const cookie = await signIn("olive@test.example");
    expect(await signedInAs(urlB, cookie)).toEqual({ email: "olive@test.example" });
    expect(await signedInAs(urlB, cookie)).toEqual({ email: "olive@test.example" });

    await graphql(urlA, "mutation { logout }", {}, { cookie });
    expect(await msUntil(async () => (await signedInAs(urlB, cookie)) === null)).toBeLessThan(1_000);
    // And on the instance that signed it out, at once.
    expect(await signedInAs(urlA, cookie)).toBeNull();
  });

  it("refuses sessions an admin revoked on the other instance within a second", async () => {
    const olive = await signIn("olive@test.example");
    const admin = await signIn("ada@test.example");
    expect(await signedInAs(urlB, olive)).toEqual({ email: "olive@test.example" });
    const operator = await database.db.operator.findUniqueOrThrow({ where: { email: "olive@test.example" } });

    const revoked = await graphql(
      urlA,
      `
        mutation ($id: ID!) {
          revokeOperatorSessions(operatorId: $id) {
            __typename
          }
        }
      `,
      { id: operator.id },
      { cookie: admin },
    );
    expect(revoked.body.errors).toBeUndefined();
    expect(await msUntil(async () => (await signedInAs(urlB, olive)) === null)).toBeLessThan(1_000);
  });

  it("refuses an API token revoked on the other instance within a second", async () => {
    const admin = await signIn("ada@test.example");
    const created = await graphql(
      urlA,
      `
        mutation {
          createApiToken(name: "cached", scopes: [READ]) {
            ... on MutationCreateApiTokenSuccess {
              data {
                id
                token
              }
            }
          }
        }
      `,
      {},
      { cookie: admin },
    );
    const { id, token } = (created.body.data?.createApiToken as { data: { id: string; token: string } }).data;
    const asToken = () => graphql(urlB, "{ __typename }", {}, { bearer: token });
    expect((await asToken()).status).toBe(200);
    expect((await asToken()).status).toBe(200);

    const revoked = await graphql(
      urlA,
      `
        mutation ($id: ID!) {
          revokeApiToken(id: $id) {
            __typename
          }
        }
      `,
      { id },
      { cookie: admin },
    );
    expect(revoked.body.errors).toBeUndefined();
    expect(await msUntil(async () => (await asToken()).status === 401)).toBeLessThan(1_000);
  });

  it("acts with an operator's new role on the other instance within a second", async () => {
    const grace = await signIn("grace@test.example");
    const ada = await signIn("ada@test.example");
    const listTokens = () => graphql(urlB, "{ apiTokens(first: 1) { edges { cursor } } }", {}, { cookie: grace });
    expect((await listTokens()).body.errors).toBeUndefined();
    const operator = await database.db.operator.findUniqueOrThrow({ where: { email: "grace@test.example" } });

    const demoted = await graphql(
      urlA,
      `
        mutation ($id: ID!) {
          changeOperatorRole(operatorId: $id, role: VIEWER) {
            __typename
          }
        }
      `,
      { id: operator.id },
      { cookie: ada },
    );
    expect(demoted.body.errors).toBeUndefined();
    expect(await msUntil(async () => (await listTokens()).body.errors !== undefined)).toBeLessThan(1_000);
  });
});
