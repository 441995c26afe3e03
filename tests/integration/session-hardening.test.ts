// Sessions and requests under attack: request floods per address and per API token get 429 with
// Retry-After; sockets are capped; a login rotates the session; sessions expire and can be
// revoked; repeated login failures refuse their address and slow the account, a success clears them; no secret reaches the logs or
// an error message; the dashboard is served with security headers and a CSP.
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createApiToken } from "@steward/core/apiTokens";
import { type Client, createClient } from "graphql-ws";
import { createLogger, type Logger } from "@steward/core/logger";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { startTestApi, type TestApi } from "../support/api.ts";
import { createOperator, TEST_PASSWORD } from "../support/fixtures.ts";

const LOGIN = `mutation ($email: String!, $password: String!) {
  login(email: $email, password: $password) { __typename ... on Error { message } }
}`;
const ME = `{ me { email } }`;
const REVOKE_SESSIONS = `mutation ($operatorId: ID!) {
  revokeOperatorSessions(operatorId: $operatorId) {
    __typename
    ... on MutationRevokeOperatorSessionsSuccess { data }
    ... on Error { message }
  }
}`;

const clients: Client[] = [];
const apis: TestApi[] = [];
afterAll(async () => {
  for (const client of clients) await client.dispose();
  for (const api of apis) await api.stop();
});

async function start(env: Record<string, string>, logger?: Logger): Promise<TestApi> {
  const api = await startTestApi(env, logger ? { logger } : {});
  apis.push(api);
  return api;
}

/** A POST as if relayed by the load balancer for `address` (the API trusts one proxy hop here). */
async function postFrom(
  api: TestApi,
  address: string,
  query: string,
  variables: Record<string, unknown> = {},
  auth: { bearer?: string; cookie?: string } = {},
) {
  const response = await fetch(`${api.url}/graphql`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "x-forwarded-for": address,
      ...(auth.bearer ? { authorization: `Bearer ${auth.bearer}` } : {}),
      ...(auth.cookie ? { cookie: auth.cookie } : {}),
    },
    body: JSON.stringify({ query, variables }),
  });
  return {
    status: response.status,
    retryAfter: response.headers.get("retry-after"),
    setCookie: response.headers.get("set-cookie"),
    body: (await response.json()) as {
      data?: Record<string, unknown> | null;
      errors?: { message: string; extensions?: { code?: string } }[];
    },
  };
}

function socketFor(api: TestApi, cookie: string): { client: Client; closeCode: () => number | undefined } {
  class CookieWebSocket extends WebSocket {
    constructor(address: string | URL, protocols?: string | string[]) {
      super(address, protocols, { headers: { cookie } });
    }
  }
  let code: number | undefined;
  const client = createClient({
    url: `${api.url.replace(/^http/, "ws")}/graphql`,
    webSocketImpl: CookieWebSocket,
    retryAttempts: 0,
    on: {
      closed: (event) => {
        if (typeof event === "object" && event !== null && "code" in event && typeof event.code === "number")
          code = event.code;
      },
    },
  });
  clients.push(client);
  return { client, closeCode: () => code };
}

describe("rate limits", () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await start({ RATE_LIMIT_PER_ADDRESS: "5", RATE_LIMIT_PER_TOKEN: "3", TRUSTED_PROXY_HOPS: "1" });
  });

  it("answers the request over the per-address limit with 429 and Retry-After, and runs nothing", async () => {
    for (let request = 0; request < 5; request++) {
      expect((await postFrom(api, "203.0.113.7", ME)).status).toBe(200);
    }
    const limited = await postFrom(api, "203.0.113.7", LOGIN, { email: "x@test.example", password: "guess" });
    expect(limited.status).toBe(429);
    expect(Number(limited.retryAfter)).toBeGreaterThanOrEqual(1);
    expect(Number(limited.retryAfter)).toBeLessThanOrEqual(60);
    expect(limited.body.errors?.[0]?.extensions?.code).toBe("RATE_LIMITED");
    expect(await api.database.db.loginAttempt.count()).toBe(0);
    // Another address is not affected.
    expect((await postFrom(api, "203.0.113.8", ME)).status).toBe(200);
  });

  it("counts guessed (invalid) tokens against the address too", async () => {
    for (let request = 0; request < 5; request++) {
      expect((await postFrom(api, "198.51.100.9", ME, {}, { bearer: `stw_guess${request}` })).status).toBe(401);
    }
    expect((await postFrom(api, "198.51.100.9", ME, {}, { bearer: "stw_guess-more" })).status).toBe(429);
  });

  it("limits each API token on its own, whatever address it comes from", async () => {
    const admin = await createOperator(api.database.db, "ADMIN", "ada@test.example");
    const actor = { kind: "OPERATOR" as const, id: admin.id, email: admin.email, name: admin.name, role: admin.role };
    const busy = await createApiToken({ db: api.database.db }, actor, { name: "busy integration", scopes: ["read"] });
    const calm = await createApiToken({ db: api.database.db }, actor, { name: "calm integration", scopes: ["read"] });
    const REGIONS = `{ regions { id } }`;
    for (let request = 0; request < 3; request++) {
      const answer = await postFrom(api, `192.0.2.${request + 1}`, REGIONS, {}, { bearer: busy.token });
      expect(answer.status).toBe(200);
    }
    const limited = await postFrom(api, "192.0.2.50", REGIONS, {}, { bearer: busy.token });
    expect(limited.status).toBe(429);
    expect(Number(limited.retryAfter)).toBeGreaterThanOrEqual(1);
    expect((await postFrom(api, "192.0.2.50", REGIONS, {}, { bearer: calm.token })).status).toBe(200);
  });
});

describe("websocket limits", () => {
  it("refuses the operation over the per-connection cap, and accepts one again when another ends", async () => {
    const api = await start({ WS_MAX_OPERATIONS_PER_CONNECTION: "2" });
    await createOperator(api.database.db, "OPERATOR", "olive@test.example");
    const { client } = socketFor(api, await api.loginCookie("olive@test.example", TEST_PASSWORD));
    const outcome = (query: string) => {
      const result = { errors: [] as unknown[], completed: false };
      const unsubscribe = client.subscribe(
        { query },
        {
          next: () => undefined,
          error: (error) => result.errors.push(error),
          complete: () => (result.completed = true),
        },
      );
      return { result, unsubscribe };
    };
    const first = outcome("subscription { jobRunRecorded { id } }");
    outcome("subscription { reviewQueueChanged { pending } }");
    const third = outcome("subscription { refundRequestChanged { id } }");
    await expect.poll(() => third.result.errors.length).toBe(1);
    expect(JSON.stringify(third.result.errors[0])).toContain("TOO_MANY_OPERATIONS");
    expect(first.result.errors).toEqual([]);

    first.unsubscribe();
    const fourth = outcome("subscription { refundRequestChanged { id } }");
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(fourth.result.errors).toEqual([]);
  });
});

describe("metrics endpoint", () => {
  it("serves /metrics only to an API token with the metrics:read scope", async () => {
    const api = await start({});
    const admin = await createOperator(api.database.db, "ADMIN", "ada@test.example");
    const actor = { kind: "OPERATOR" as const, id: admin.id, email: admin.email, name: admin.name, role: admin.role };
    const scraper = await createApiToken({ db: api.database.db }, actor, {
      name: "prometheus",
      scopes: ["metrics:read"],
    });
    const reader = await createApiToken({ db: api.database.db }, actor, { name: "reporting", scopes: ["read"] });
    const cookie = await api.loginCookie("ada@test.example", TEST_PASSWORD);
    const scrape = (headers: Record<string, string>) => fetch(`${api.url}/metrics`, { headers });

    const anonymous = await scrape({});
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get("www-authenticate")).toMatch(/^Bearer/);
    expect(await anonymous.text()).not.toContain("steward_");
    expect((await scrape({ authorization: "Bearer stw_guessed" })).status).toBe(401);
    expect((await scrape({ cookie })).status).toBe(401);
    const wrongScope = await scrape({ authorization: `Bearer ${reader.token}` });
    expect(wrongScope.status).toBe(403);
    expect(await wrongScope.text()).not.toContain("steward_");

    const scraped = await scrape({ authorization: `Bearer ${scraper.token}` });
    expect(scraped.status).toBe(200);
    expect(await scraped.text()).toContain("steward_");
    // The scraper's token reads metrics, not the catalog.
    const graphql = await api.graphql(`{ regions { id } }`, {}, { bearer: scraper.token });
    expect(graphql.data).toBeFalsy();
  });
});

describe("websocket origins", () => {
  /** Opens a socket with this Origin (or none) and says how the upgrade ended. */
  function upgradeFrom(api: TestApi, cookie: string, origin?: string): Promise<number> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(`${api.url.replace(/^http/, "ws")}/graphql`, "graphql-transport-ws", {
        headers: { cookie, ...(origin ? { origin } : {}) },
      });
      socket.once("open", () => {
        socket.close();
        resolve(101);
      });
      socket.once("unexpected-response", (_request, response) => {
        resolve(response.statusCode ?? 0);
        socket.terminate();
      });
      socket.once("error", (error) => reject(error));
    });
  }

  it("refuses an upgrade from a foreign Origin (cross-site websocket hijacking), allows its own and none", async () => {
    const api = await start({ PUBLIC_URL: "https://steward.example/", ALLOWED_ORIGINS: "https://ops.example" });
    await createOperator(api.database.db, "OPERATOR", "olive@test.example");
    const cookie = await api.loginCookie("olive@test.example", TEST_PASSWORD);
    // A page on another site opening the socket with the victim's cookie.
    expect(await upgradeFrom(api, cookie, "https://evil.example")).toBe(403);
    expect(await upgradeFrom(api, cookie, "https://steward.example.evil.example")).toBe(403);
    expect(await upgradeFrom(api, cookie, "null")).toBe(403);
    expect(await upgradeFrom(api, cookie, "http://steward.example")).toBe(403);
    expect(await upgradeFrom(api, cookie, "https://steward.example")).toBe(101);
    expect(await upgradeFrom(api, cookie, "https://ops.example")).toBe(101);
    // No Origin: not a browser (an integration with its token), so no ambient cookie to abuse.
    expect(await upgradeFrom(api, cookie)).toBe(101);
  });
});

describe("sessions", () => {
  let api: TestApi;
  let olive: { id: string };
  beforeAll(async () => {
    api = await start({
      TRUSTED_PROXY_HOPS: "1",
      LOGIN_MAX_FAILURES_PER_ACCOUNT: "3",
      LOGIN_MAX_FAILURES_PER_ADDRESS: "4",
    });
    olive = await createOperator(api.database.db, "OPERATOR", "olive@test.example");
    await createOperator(api.database.db, "ADMIN", "ada@test.example");
    await createOperator(api.database.db, "VIEWER", "vic@test.example");
  });

  const loginFrom = async (address: string, email: string, password: string, cookie?: string) =>
    postFrom(api, address, LOGIN, { email, password }, cookie ? { cookie } : {});
  const meWith = async (cookie: string) =>
    ((await postFrom(api, "10.0.0.1", ME, {}, { cookie })).body.data?.me as { email: string } | null) ?? null;

  it("rotates the session at login: the session the browser held before stops working", async () => {
    const first = (await loginFrom("10.0.0.1", "olive@test.example", TEST_PASSWORD)).setCookie!.split(";")[0]!;
    const again = await loginFrom("10.0.0.1", "olive@test.example", TEST_PASSWORD, first);
    const second = again.setCookie!.split(";")[0]!;
    expect(second).not.toBe(first);
    expect(await meWith(second)).toEqual({ email: "olive@test.example" });
    expect(await meWith(first)).toBeNull();
  });

  it("ends a session at its expiry: the cookie stops working and its socket is closed", async () => {
    const shortLived = await start({ SESSION_TTL_HOURS: String(2 / 3600) }); // two seconds
    await createOperator(shortLived.database.db, "VIEWER", "vic@test.example");
    const cookie = await shortLived.loginCookie("vic@test.example", TEST_PASSWORD);
    const socket = socketFor(shortLived, cookie);
    const connected = new Promise<void>((resolve) => socket.client.on("connected", () => resolve()));
    socket.client.subscribe(
      { query: "subscription { jobRunRecorded { id } }" },
      { next: () => undefined, error: () => undefined, complete: () => undefined },
    );
    await connected;
    expect((await shortLived.graphql<{ me: unknown }>(ME, {}, { cookie })).data?.me).not.toBeNull();
    await expect.poll(socket.closeCode, { timeout: 5_000 }).toBe(4401);
    expect((await shortLived.graphql<{ me: unknown }>(ME, {}, { cookie })).data?.me).toBeNull();
  });

  it("lets an ADMIN revoke every session of an operator, closing their sockets, audited", async () => {
    const oliveCookie = (await loginFrom("10.0.0.2", "olive@test.example", TEST_PASSWORD)).setCookie!.split(";")[0]!;
    const socket = socketFor(api, oliveCookie);
    const connected = new Promise<void>((resolve) => socket.client.on("connected", () => resolve()));
    socket.client.subscribe(
      { query: "subscription { jobRunRecorded { id } }" },
      { next: () => undefined, error: () => undefined, complete: () => undefined },
    );
    await connected;

    const viewerCookie = (await loginFrom("10.0.0.2", "vic@test.example", TEST_PASSWORD)).setCookie!.split(";")[0]!;
    const refused = await postFrom(
      api,
      "10.0.0.2",
      REVOKE_SESSIONS,
      { operatorId: olive.id },
      { cookie: viewerCookie },
    );
    expect(refused.body.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    expect(await meWith(oliveCookie)).toEqual({ email: "olive@test.example" });

    const adminCookie = (await loginFrom("10.0.0.2", "ada@test.example", TEST_PASSWORD)).setCookie!.split(";")[0]!;
    const revoked = await postFrom(api, "10.0.0.2", REVOKE_SESSIONS, { operatorId: olive.id }, { cookie: adminCookie });
    expect(revoked.body.data?.revokeOperatorSessions).toMatchObject({
      __typename: "MutationRevokeOperatorSessionsSuccess",
    });
    expect(await meWith(oliveCookie)).toBeNull();
    await expect.poll(socket.closeCode, { timeout: 5_000 }).toBe(4401);
    const audit = await api.database.db.auditEvent.findMany({ where: { action: "auth.sessions_revoked" } });
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ actorLabel: "ada@test.example", targetId: olive.id });

    const unknown = await postFrom(
      api,
      "10.0.0.2",
      REVOKE_SESSIONS,
      { operatorId: "00000000-0000-7000-8000-000000000000" },
      { cookie: adminCookie },
    );
    expect(unknown.body.data?.revokeOperatorSessions).toMatchObject({ __typename: "NotFoundError" });
    const malformed = await postFrom(api, "10.0.0.2", REVOKE_SESSIONS, { operatorId: "nope" }, { cookie: adminCookie });
    expect(malformed.body.data?.revokeOperatorSessions).toMatchObject({ __typename: "ValidationError" });
    expect(await api.database.db.auditEvent.count({ where: { action: "auth.sessions_revoked" } })).toBe(1);
  });

  it("clears an account's failures at a successful login, so a typo now and then never locks it", async () => {
    for (let round = 0; round < 3; round++) {
      for (const guess of ["typo-1", "typo-2"]) await loginFrom(`10.1.0.${round}`, "vic@test.example", guess);
      const success = await loginFrom(`10.1.0.${round}`, "vic@test.example", TEST_PASSWORD);
      expect(success.body.data?.login).toEqual({ __typename: "MutationLoginSuccess" });
    }
  });

  it("refuses the address that failed in a row, and only slows the account for the others", async () => {
    for (const guess of ["a", "b", "c"]) await loginFrom("10.2.0.1", "ada@test.example", `guess-${guess}`);
    const refused = await loginFrom("10.2.0.1", "ada@test.example", TEST_PASSWORD);
    expect(refused.body.data?.login).toMatchObject({ __typename: "TooManyAttemptsError" });
    expect(refused.setCookie).toBeNull();
    // Elsewhere the owner waits out at most the first step of the slowdown, then gets in.
    let owner = await loginFrom("10.2.0.9", "ada@test.example", TEST_PASSWORD);
    if ((owner.body.data?.login as { __typename: string }).__typename === "TooManyAttemptsError") {
      await new Promise((resolve) => setTimeout(resolve, 1100));
      owner = await loginFrom("10.2.0.9", "ada@test.example", TEST_PASSWORD);
    }
    expect(owner.body.data?.login).toEqual({ __typename: "MutationLoginSuccess" });
  });

  it("limits an address that guesses across accounts, but not one whose failures were followed by success", async () => {
    // An office: a colleague mistyped, then got in; the address is not held against the others.
    for (const guess of ["x", "y"]) await loginFrom("10.3.0.1", "olive@test.example", `typo-${guess}`);
    await loginFrom("10.3.0.1", "olive@test.example", TEST_PASSWORD);
    await loginFrom("10.3.0.1", "vic@test.example", "one-typo");
    expect((await loginFrom("10.3.0.1", "vic@test.example", TEST_PASSWORD)).body.data?.login).toEqual({
      __typename: "MutationLoginSuccess",
    });

    // An attacker: one guess at each of many accounts from one address.
    for (const account of ["a", "b", "c", "d"]) await loginFrom("10.4.0.1", `${account}@test.example`, "Winter2026!");
    const refused = await loginFrom("10.4.0.1", "olive@test.example", TEST_PASSWORD);
    expect(refused.body.data?.login).toMatchObject({ __typename: "TooManyAttemptsError" });
  });
});

describe("secrets", () => {
  it("never appear in the logs or in error messages", async () => {
    const lines: string[] = [];
    const logger = createLogger("api-test", "trace", { write: (line: string) => lines.push(line) });
    const api = await start({ LOG_LEVEL: "trace" }, logger);
    const admin = await createOperator(api.database.db, "ADMIN", "ada@test.example");
    const wrongPassword = "hunter2-is-not-it";
    const forgedToken = "stw_forged-token-0123456789";

    const cookie = await api.loginCookie("ada@test.example", TEST_PASSWORD);
    const failed = await api.graphql(LOGIN, { email: "ada@test.example", password: wrongPassword });
    const forged = await api.graphql(ME, {}, { bearer: forgedToken });
    const created = await api.graphql<{ createApiToken: { data: { token: string } } }>(
      `mutation { createApiToken(name: "ci", scopes: [READ]) { ... on MutationCreateApiTokenSuccess { data { token } } } }`,
      {},
      { cookie },
    );
    const token = created.data!.createApiToken.data.token;
    await api.graphql(`{ regions { id } }`, {}, { bearer: token });
    // An unexpected error inside a resolver is logged (masked for the client).
    const badId = Buffer.from("Review:not-a-uuid").toString("base64");
    const crashed = await api.graphql(`query ($id: ID!) { review(id: $id) { id } }`, { id: badId }, { cookie });
    expect(crashed.errors?.[0]?.message).toBe("Unexpected error.");
    const sessionSecret = cookie.split("=")[1]!;
    const responses = JSON.stringify([failed, forged, created.errors ?? null, crashed]);
    expect(lines.length).toBeGreaterThan(0);
    const logs = lines.join("\n");
    for (const secret of [TEST_PASSWORD, wrongPassword, forgedToken, token, sessionSecret]) {
      expect(logs).not.toContain(secret);
      expect(responses).not.toContain(secret);
    }
    expect(admin.passwordHash.length).toBeGreaterThan(0);
    expect(logs).not.toContain(admin.passwordHash);
  });
});

describe("security headers", () => {
  it("serve the dashboard with a CSP that allows only its own scripts, and harden every response", async () => {
    const dist = mkdtempSync(join(tmpdir(), "steward-web-"));
    const bootstrap = `window.__booted = true;`;
    writeFileSync(join(dist, "index.html"), `<!doctype html><html><body><script>${bootstrap}</script></body></html>`);
    try {
      const api = await start({ WEB_DIST_DIR: dist, COOKIE_SECURE: "true" });
      const page = await fetch(`${api.url}/reviews`);
      expect(page.status).toBe(200);
      const csp = page.headers.get("content-security-policy") ?? "";
      const hash = createHash("sha256").update(bootstrap).digest("base64");
      expect(csp).toContain(`script-src 'self' 'sha256-${hash}'`);
      expect(csp).toContain("default-src 'self'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).toContain("object-src 'none'");
      expect(csp).not.toMatch(/script-src[^;]*'unsafe-inline'/);
      expect(page.headers.get("x-frame-options")).toBe("DENY");
      expect(page.headers.get("x-content-type-options")).toBe("nosniff");
      expect(page.headers.get("referrer-policy")).toBe("no-referrer");
      expect(page.headers.get("strict-transport-security")).toMatch(/max-age=\d+/);

      const graphql = await fetch(`${api.url}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ query: ME }),
      });
      expect(graphql.headers.get("x-content-type-options")).toBe("nosniff");
      expect(graphql.headers.get("x-frame-options")).toBe("DENY");
    } finally {
      rmSync(dist, { recursive: true, force: true });
    }
  });
});
