// Each API instance remembers who a session cookie or API token belongs to (api/src/sessionCache.ts).
// Revoking on one instance must still be refused on every other within a second: the change is
// pushed over the Redis bus. Two API instances on one database and one Redis key prefix.
import { createLogger } from "@steward/core/logger";
import type { EventBus, EventName, StewardEvents } from "@steward/core/ports/events";
import { hashSecret } from "@steward/core/secrets";
import { createPubSub } from "graphql-yoga";
import type { Env } from "@steward/core/env";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApp, type App } from "../../api/src/app.ts";
import { CredentialCache } from "../../api/src/sessionCache.ts";
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

/** A bus whose first credentialsChanged stream fails when told to; later streams are an in-memory pub/sub. */
function failingOnceBus() {
  const pubsub = createPubSub<Record<string, [unknown]>>();
  let fail: (error: Error) => void = () => undefined;
  let subscriptions = 0;
  const bus: EventBus = {
    publish: (name, payload) => pubsub.publish(name, payload),
    subscribe<Name extends EventName>(name: Name): AsyncIterableIterator<StewardEvents[Name][0]> {
      subscriptions++;
      if (subscriptions > 1) return pubsub.subscribe(name) as AsyncIterableIterator<StewardEvents[Name][0]>;
      const failed = new Promise<never>((_resolve, reject) => (fail = reject));
      const stream: AsyncIterableIterator<StewardEvents[Name][0]> = {
        [Symbol.asyncIterator]: () => stream,
        next: () => failed,
        return: () => Promise.resolve({ value: undefined, done: true }),
      };
      return stream;
    },
  };
  return { bus, fail: (error: Error) => fail(error), subscriptions: () => subscriptions };
}

describe("the cache's listener when its bus stream fails", () => {
  // A Redis stream cannot be made to fail on demand, so the bus is the one stand-in here; the
  // sessions are real rows, revoked straight in the database so only a fresh read can see it.
  it("forgets what it cached, subscribes again and follows later changes", async () => {
    const operator = await database.db.operator.findUniqueOrThrow({ where: { email: "grace@test.example" } });
    const session = async (token: string) =>
      database.db.session.create({
        data: { tokenHash: hashSecret(token), operatorId: operator.id, expiresAt: new Date(Date.now() + 3_600_000) },
      });
    const revoke = (id: string) => database.db.session.update({ where: { id }, data: { revokedAt: new Date() } });
    const bus = failingOnceBus();
    const cache = new CredentialCache(database.db, bus.bus);
    const stop = cache.listen();
    try {
      const before = await session("listener-gap-before");
      expect(await cache.operatorForSession("listener-gap-before")).not.toBeNull();
      await revoke(before.id);
      expect(await cache.operatorForSession("listener-gap-before")).not.toBeNull(); // cached

      bus.fail(new Error("bus connection lost"));
      await expect.poll(() => bus.subscriptions(), { timeout: 2_000 }).toBe(2);
      // What it held before the gap is read again: the revocation it never heard of is seen.
      expect(await cache.operatorForSession("listener-gap-before")).toBeNull();

      // Another instance revokes a session: the new stream delivers it and the entry goes.
      const after = await session("listener-gap-after");
      expect(await cache.operatorForSession("listener-gap-after")).not.toBeNull();
      await revoke(after.id);
      expect(await cache.operatorForSession("listener-gap-after")).not.toBeNull(); // cached
      // Published until heard: the new stream listens from its first read.
      await expect
        .poll(
          () => {
            bus.bus.publish("credentialsChanged", { sessionIds: [after.id], operatorIds: [], apiTokenIds: [] });
            return cache.operatorForSession("listener-gap-after");
          },
          { timeout: 2_000 },
        )
        .toBeNull();
    } finally {
      await stop();
    }
  });
});
