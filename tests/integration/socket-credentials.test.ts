// An open websocket outlives nothing it was opened with: its subscriptions run with the actor
// authenticated when they started, so a revoked API token or a changed role must close the socket
// (as an ended session does), not only refuse the next operation on it.
import { createApiToken } from "@steward/core/apiTokens";
import { type Client, createClient } from "graphql-ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { startTestApi, type TestApi } from "../support/api.ts";
import { createOperator, TEST_PASSWORD } from "../support/fixtures.ts";

const HEALTH_CHANGED = "subscription { healthChanged { overall } }";

let api: TestApi;
let adminCookie: string;
let admin: { id: string; email: string; name: string };
const clients: Client[] = [];

beforeAll(async () => {
  api = await startTestApi();
  const created = await createOperator(api.database.db, "ADMIN", "ada@test.example");
  admin = created;
  adminCookie = await api.loginCookie("ada@test.example", TEST_PASSWORD);
});
afterAll(async () => {
  for (const client of clients) await client.dispose();
  await api?.stop();
});

interface Watched {
  closeCode: () => number | undefined;
  received: () => number;
}

/** Connects (cookie or token), subscribes to healthChanged and resolves once the API listens. */
async function watchHealth(auth: { cookie?: string; token?: string }): Promise<Watched> {
  const headers: Record<string, string> = auth.cookie ? { cookie: auth.cookie } : {};
  class AuthWebSocket extends WebSocket {
    constructor(address: string | URL, protocols?: string | string[]) {
      super(address, protocols, { headers });
    }
  }
  let code: number | undefined;
  let received = 0;
  const client = createClient({
    url: `${api.url.replace(/^http/, "ws")}/graphql`,
    webSocketImpl: AuthWebSocket,
    retryAttempts: 0,
    ...(auth.token ? { connectionParams: { authorization: `Bearer ${auth.token}` } } : {}),
    on: {
      closed: (event) => {
        if (typeof event === "object" && event !== null && "code" in event && typeof event.code === "number")
          code = event.code;
      },
    },
  });
  clients.push(client);
  client.subscribe(
    { query: HEALTH_CHANGED },
    { next: () => void received++, error: () => undefined, complete: () => undefined },
  );
  // Listening starts with the operation: publish until the first event arrives.
  await expect
    .poll(
      () => {
        api.deps.events.publish("healthChanged", { overall: "GREEN", checkedAt: new Date().toISOString() });
        return received;
      },
      { timeout: 5_000 },
    )
    .toBeGreaterThan(0);
  return { closeCode: () => code, received: () => received };
}

/** Publishes a few events and says how many more the socket received meanwhile. */
async function eventsAfter(watched: Watched): Promise<number> {
  const before = watched.received();
  for (let event = 0; event < 3; event++) {
    api.deps.events.publish("healthChanged", { overall: "RED", checkedAt: new Date().toISOString() });
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return watched.received() - before;
}

describe("an open websocket", () => {
  it("is closed when its API token is revoked, and receives nothing after", async () => {
    const actor = { kind: "OPERATOR" as const, ...admin, role: "ADMIN" as const };
    const onCall = await createApiToken({ db: api.database.db }, actor, { name: "pager", scopes: ["alerts:read"] });
    const watched = await watchHealth({ token: onCall.token });

    const tokenId = Buffer.from(`ApiToken:${onCall.id}`).toString("base64");
    const revoked = await api.graphql<{ revokeApiToken: { __typename: string } }>(
      `mutation ($id: ID!) { revokeApiToken(id: $id) { __typename } }`,
      { id: tokenId },
      { cookie: adminCookie },
    );
    expect(revoked.data?.revokeApiToken.__typename).toBe("MutationRevokeApiTokenSuccess");
    await expect.poll(watched.closeCode, { timeout: 5_000 }).toBe(4401);
    expect(await eventsAfter(watched)).toBe(0);
  });

  /** An admin gives the operator `role`, and the API accepts it. */
  async function changeRoleAsAdmin(operatorId: string, role: "VIEWER" | "OPERATOR"): Promise<void> {
    const changed = await api.graphql<{ changeOperatorRole: { __typename: string } }>(
      `mutation ($id: ID!, $role: Role!) { changeOperatorRole(operatorId: $id, role: $role) { __typename } }`,
      { id: operatorId, role },
      { cookie: adminCookie },
    );
    expect(changed.data?.changeOperatorRole.__typename).toBe("MutationChangeOperatorRoleSuccess");
  }

  it("is closed when its operator's role changes, so no subscription goes on with the old role", async () => {
    const demoted = await createOperator(api.database.db, "ADMIN", "dee@test.example");
    const watched = await watchHealth({ cookie: await api.loginCookie("dee@test.example", TEST_PASSWORD) });

    await changeRoleAsAdmin(demoted.id, "VIEWER");
    await expect.poll(watched.closeCode, { timeout: 5_000 }).toBe(4401);
    expect(await eventsAfter(watched)).toBe(0);
  });

  it("stays open when its operator is given the role they already have (no change, nothing to close)", async () => {
    const same = await createOperator(api.database.db, "OPERATOR", "sam@test.example");
    const watched = await watchHealth({ cookie: await api.loginCookie("sam@test.example", TEST_PASSWORD) });

    await changeRoleAsAdmin(same.id, "OPERATOR");
    expect(await eventsAfter(watched)).toBe(3);
    expect(watched.closeCode()).toBeUndefined();
  });
});

describe("a subscription's payload", () => {
  it("follows the type rules: an on-call token reads the alert, never who acknowledged it", async () => {
    const actor = { kind: "OPERATOR" as const, ...admin, role: "ADMIN" as const };
    const onCall = await createApiToken({ db: api.database.db }, actor, { name: "pager 2", scopes: ["alerts:read"] });
    const alert = await api.database.db.alert.create({
      data: {
        fingerprint: "test:acknowledged",
        ruleKey: "test",
        severity: "RED",
        status: "ACKNOWLEDGED",
        title: "Disk full",
        detail: "99%",
        acknowledgedById: admin.id,
        acknowledgedAt: new Date(),
      },
    });
    const results: unknown[] = [];
    const client = createClient({
      url: `${api.url.replace(/^http/, "ws")}/graphql`,
      webSocketImpl: WebSocket,
      retryAttempts: 0,
      connectionParams: { authorization: `Bearer ${onCall.token}` },
    });
    clients.push(client);
    client.subscribe(
      { query: "subscription { alertChanged { title acknowledgedBy { email } incident { id } } }" },
      {
        next: (result) => void results.push(result),
        error: (error) => void results.push(error),
        complete: () => undefined,
      },
    );
    await expect
      .poll(
        () => {
          api.deps.events.publish("alertChanged", {
            alertId: alert.id,
            fingerprint: alert.fingerprint,
            change: "ACKNOWLEDGED",
            status: "ACKNOWLEDGED",
          });
          return results.length;
        },
        { timeout: 5_000 },
      )
      .toBeGreaterThan(0);
    const text = JSON.stringify(results);
    expect(text).not.toContain("ada@test.example");
    expect(text).toContain("FORBIDDEN");
  });
});

describe("a subscription over HTTP (server-sent events, multipart)", () => {
  /** Posts the subscription with this Accept header and reads what the stream says while events are published. */
  async function streamOver(accept: string, bearer: string): Promise<{ status: number; text: string }> {
    const controller = new AbortController();
    const response = await fetch(`${api.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", accept, authorization: `Bearer ${bearer}` },
      body: JSON.stringify({ query: HEALTH_CHANGED }),
      signal: controller.signal,
    });
    let text = "";
    const reading = (async () => {
      const reader = response.body!.getReader();
      try {
        for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read())
          text += new TextDecoder().decode(chunk.value);
      } catch {
        // Aborted below.
      }
    })();
    for (let event = 0; event < 3; event++) {
      api.deps.events.publish("healthChanged", { overall: "GREEN", checkedAt: new Date().toISOString() });
      await new Promise((resolve) => setTimeout(resolve, 150));
    }
    controller.abort();
    await reading;
    return { status: response.status, text };
  }

  it("is refused: no revocation, expiry or socket cap would ever end or count its stream", async () => {
    const actor = { kind: "OPERATOR" as const, ...admin, role: "ADMIN" as const };
    const onCall = await createApiToken({ db: api.database.db }, actor, { name: "pager 3", scopes: ["alerts:read"] });
    for (const accept of ["text/event-stream", "multipart/mixed", "application/json"]) {
      const { status, text } = await streamOver(accept, onCall.token);
      expect(status).toBeGreaterThanOrEqual(400);
      expect(text).not.toContain("overall");
    }
    expect((await streamOver("text/event-stream", onCall.token)).text).toContain("websocket");
  });
});
