// On-call tools read and act through API tokens: `alerts:read` lists alerts and health and follows
// `alertChanged` over graphql-ws with the bearer token in the connection_init payload;
// `alerts:write` acknowledges and resolves (audited as the token); `metrics:read` reads the
// metrics and the overview. A token without the scope is refused, over HTTP and over the socket.
import { createApiToken } from "@steward/core/apiTokens";
import { raiseAlert } from "@steward/core/alerts";
import { createEventBus, type EventBusHandle } from "@steward/core/adapters/redisEvents";
import { type Client, createClient } from "graphql-ws";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { startTestApi, type TestApi } from "../support/api.ts";
import { createOperator, testRuleKey } from "../support/fixtures.ts";
import { quietDeps } from "../support/deps.ts";

let api: TestApi;
let bus: EventBusHandle;
let redis: Redis;
const tokens: Record<"alertsRead" | "alertsWrite" | "metricsRead" | "read", string> = {
  alertsRead: "",
  alertsWrite: "",
  metricsRead: "",
  read: "",
};
const clients: Client[] = [];
let sequence = 0;

const globalId = (id: string) => Buffer.from(`Alert:${id}`).toString("base64");

async function raise(): Promise<{ id: string; fingerprint: string }> {
  const fingerprint = `on-call.test:${++sequence}`;
  await raiseAlert(
    { ...quietDeps(api.database.db), events: bus.bus },
    {
      fingerprint,
      ruleKey: testRuleKey("on-call.test"),
      severity: "RED",
      title: `On-call ${sequence}`,
      detail: "detail",
    },
    new Date(),
  );
  return api.database.db.alert.findUniqueOrThrow({ where: { fingerprint }, select: { id: true, fingerprint: true } });
}

/** An integration's socket: no cookie, the bearer token in the connection_init payload. */
function tokenSocket(token: string): { client: Client; closeCode: () => number | undefined } {
  let code: number | undefined;
  const client = createClient({
    url: `${api.url.replace(/^http/, "ws")}/graphql`,
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    connectionParams: { authorization: `Bearer ${token}` },
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

async function alertSubscribers(): Promise<number> {
  const reply = (await redis.pubsub("NUMSUB", `${api.env.REDIS_PREFIX}:events:alertChanged`)) as [string, number];
  return Number(reply[1]);
}

beforeAll(async () => {
  api = await startTestApi();
  bus = createEventBus(api.env.REDIS_URL, api.env.REDIS_PREFIX);
  redis = new Redis(api.env.REDIS_URL);
  const admin = await createOperator(api.database.db, "ADMIN", "ada@test.example");
  const actor = { kind: "OPERATOR" as const, id: admin.id, email: admin.email, name: admin.name, role: admin.role };
  const scopes = { alertsRead: "alerts:read", alertsWrite: "alerts:write", metricsRead: "metrics:read", read: "read" };
  for (const [key, scope] of Object.entries(scopes) as [keyof typeof tokens, string][]) {
    tokens[key] = (
      await createApiToken({ db: api.database.db }, actor, { name: `pager ${scope}`, scopes: [scope] })
    ).token;
  }
});
afterAll(async () => {
  for (const client of clients) await client.dispose();
  await bus?.close();
  redis?.disconnect();
  await api?.stop();
});

describe("alerts:read", () => {
  it("lists open alerts and reads one alert and the health status", async () => {
    const alert = await raise();
    const result = await api.graphql<{
      alerts: { edges: { node: { id: string; fingerprint: string; status: string } }[] };
      alert: { fingerprint: string; timeline: { kind: string }[] } | null;
      healthStatus: { overall: string };
    }>(
      `query ($id: ID!) {
        alerts(first: 50) { edges { node { id fingerprint status } } }
        alert(id: $id) { fingerprint timeline { kind } }
        healthStatus { overall }
      }`,
      { id: globalId(alert.id) },
      { bearer: tokens.alertsRead },
    );
    expect(result.errors).toBeUndefined();
    expect(result.data?.alerts.edges.map((edge) => edge.node.fingerprint)).toContain(alert.fingerprint);
    expect(result.data?.alert).toEqual({ fingerprint: alert.fingerprint, timeline: [{ kind: "FIRED" }] });
    expect(["GREEN", "YELLOW", "RED"]).toContain(result.data?.healthStatus.overall);
  });

  it("cannot acknowledge, and does not read metrics", async () => {
    const alert = await raise();
    const acknowledge = await api.graphql(
      `mutation ($id: ID!) { acknowledgeAlert(id: $id) { __typename } }`,
      { id: globalId(alert.id) },
      { bearer: tokens.alertsRead },
    );
    expect(acknowledge.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    expect((await api.database.db.alert.findUniqueOrThrow({ where: { id: alert.id } })).status).toBe("FIRING");
    const metrics = await api.graphql(`{ metrics { computedAt } }`, {}, { bearer: tokens.alertsRead });
    expect(metrics.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
  });

  it("follows alertChanged over graphql-ws with the token in connection_init, and the plain read scope cannot", async () => {
    const alert = await raise();
    const received: { fingerprint: string; status: string }[] = [];
    const subscriptionErrors: unknown[] = [];
    const before = await alertSubscribers();
    tokenSocket(tokens.alertsRead).client.subscribe<{ alertChanged: { fingerprint: string; status: string } }>(
      { query: `subscription { alertChanged { fingerprint status } }` },
      {
        next: (result) => {
          if (result.data) received.push(result.data.alertChanged);
          if (result.errors) subscriptionErrors.push(...result.errors);
        },
        error: (error) => subscriptionErrors.push(error),
        complete: () => undefined,
      },
    );
    // The refused one: a token without an alerts scope gets FORBIDDEN and never an event.
    const refused: string[] = [];
    tokenSocket(tokens.read).client.subscribe<{ alertChanged: { fingerprint: string } }>(
      { query: `subscription { alertChanged { fingerprint } }` },
      {
        next: (result) => {
          if (result.data) refused.push(`event ${result.data.alertChanged.fingerprint}`);
          for (const error of result.errors ?? []) refused.push(String(error.extensions?.["code"]));
        },
        error: (error) => refused.push(`error ${String(error)}`),
        complete: () => undefined,
      },
    );
    await expect.poll(alertSubscribers, { timeout: 10_000 }).toBeGreaterThan(before);
    await expect.poll(() => refused, { timeout: 10_000 }).toEqual(["FORBIDDEN"]);

    // Another on-call tool acknowledges over HTTP: the subscriber sees the change.
    const acknowledged = await api.graphql<{ acknowledgeAlert: { __typename: string } }>(
      `mutation ($id: ID!) { acknowledgeAlert(id: $id) { __typename } }`,
      { id: globalId(alert.id) },
      { bearer: tokens.alertsWrite },
    );
    expect(acknowledged.data?.acknowledgeAlert.__typename).toBe("MutationAcknowledgeAlertSuccess");
    await expect
      .poll(() => received.filter((event) => event.fingerprint === alert.fingerprint), { timeout: 10_000 })
      .toEqual([{ fingerprint: alert.fingerprint, status: "ACKNOWLEDGED" }]);
    expect(subscriptionErrors).toEqual([]);
    expect(refused).toEqual(["FORBIDDEN"]);
  });

  it("refuses the socket for an unknown token", async () => {
    const socket = tokenSocket("stw_not-a-real-token");
    const outcome = await new Promise<string>((resolve) => {
      socket.client.subscribe(
        { query: `subscription { alertChanged { fingerprint } }` },
        { next: () => resolve("event"), error: () => resolve("closed"), complete: () => resolve("complete") },
      );
    });
    expect(outcome).toBe("closed");
    expect(socket.closeCode()).toBe(4403);
  });
});

describe("alerts:write", () => {
  it("acknowledges and resolves, reads the result, and the audit log names the token", async () => {
    const alert = await raise();
    const id = globalId(alert.id);
    const acknowledged = await api.graphql<{
      acknowledgeAlert: { __typename: string; data?: { status: string; acknowledgedBy: null | { id: string } } };
    }>(
      `mutation ($id: ID!) { acknowledgeAlert(id: $id) { __typename ... on MutationAcknowledgeAlertSuccess { data { status acknowledgedBy { id } } } } }`,
      { id },
      { bearer: tokens.alertsWrite },
    );
    expect(acknowledged.errors).toBeUndefined();
    expect(acknowledged.data?.acknowledgeAlert.data).toEqual({ status: "ACKNOWLEDGED", acknowledgedBy: null });
    const resolved = await api.graphql<{ resolveAlert: { __typename: string; data?: { status: string } } }>(
      `mutation ($id: ID!) { resolveAlert(id: $id, note: "Restarted the consumer") { __typename ... on MutationResolveAlertSuccess { data { status } } } }`,
      { id },
      { bearer: tokens.alertsWrite },
    );
    expect(resolved.data?.resolveAlert.data).toEqual({ status: "RESOLVED" });
    const audit = await api.database.db.auditEvent.findMany({
      where: { targetId: alert.id, action: { in: ["alert.acknowledge", "alert.resolve"] } },
      orderBy: { createdAt: "asc" },
    });
    expect(audit.map((entry) => [entry.action, entry.actorKind, entry.actorLabel])).toEqual([
      ["alert.acknowledge", "API_TOKEN", "token:pager alerts:write"],
      ["alert.resolve", "API_TOKEN", "token:pager alerts:write"],
    ]);
  });

  it("is not a metrics token, and cannot silence", async () => {
    const alert = await raise();
    const silence = await api.graphql(
      `mutation ($id: ID!, $until: DateTime!) { silenceAlert(id: $id, until: $until) { __typename } }`,
      { id: globalId(alert.id), until: new Date(Date.now() + 3_600_000).toISOString() },
      { bearer: tokens.alertsWrite },
    );
    expect(silence.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    const overview = await api.graphql(`{ overview { metrics { computedAt } } }`, {}, { bearer: tokens.alertsWrite });
    expect(overview.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
  });
});

describe("metrics:read", () => {
  it("reads metrics and the overview, and not alerts", async () => {
    const result = await api.graphql<{
      metrics: { computedAt: string };
      overview: { metrics: { computedAt: string } };
    }>(
      `{ metrics { computedAt } overview { metrics { computedAt } } healthStatus { overall } }`,
      {},
      { bearer: tokens.metricsRead },
    );
    expect(result.errors).toBeUndefined();
    expect(typeof result.data?.metrics.computedAt).toBe("string");
    const alerts = await api.graphql(
      `{ alerts(first: 1) { edges { node { id } } } }`,
      {},
      {
        bearer: tokens.metricsRead,
      },
    );
    expect(alerts.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
  });
});
