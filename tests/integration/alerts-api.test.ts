// Alerts through the GraphQL API and live over graphql-ws: two API processes of one stack both
// push an `alertChanged` event published by core in another process (through Redis); the
// operator's actions with typed errors; channels managed by an ADMIN with secrets never returned.
import { buildApp, type App } from "../../api/src/app.ts";
import { raiseAlert } from "@steward/core/alerts";
import { createEventBus, type EventBusHandle } from "@steward/core/adapters/redisEvents";
import { createLogger } from "@steward/core/logger";
import { type Client, createClient } from "graphql-ws";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { DEFAULT_WEBHOOK_SECRET, startNotifySandbox, type NotifySandbox } from "../../sandbox/src/notify/server.ts";
import { startTestApi, type TestApi } from "../support/api.ts";
import { createOperator, TEST_PASSWORD, testRuleKey } from "../support/fixtures.ts";
import { quietDeps } from "../support/deps.ts";

const ALERT_CHANGED = `subscription { alertChanged { id fingerprint status count } }`;

let api: TestApi;
let secondApp: App;
let secondUrl: string;
let bus: EventBusHandle;
let redis: Redis;
let receivers: NotifySandbox;
let operatorCookie: string;
let viewerCookie: string;
let adminCookie: string;
const clients: Client[] = [];
let sequence = 0;

function wsClient(baseUrl: string, cookie: string): Client {
  class BrowserLikeWebSocket extends WebSocket {
    constructor(address: string | URL, protocols?: string | string[]) {
      super(address, protocols, { headers: { cookie } });
    }
  }
  const client = createClient({
    url: `${baseUrl.replace(/^http/, "ws")}/graphql`,
    webSocketImpl: BrowserLikeWebSocket,
    retryAttempts: 0,
  });
  clients.push(client);
  return client;
}

async function subscribers(count: number): Promise<void> {
  const channel = `${api.env.REDIS_PREFIX}:events:alertChanged`;
  await expect
    .poll(async () => Number(((await redis.pubsub("NUMSUB", channel)) as [string, number])[1]), { timeout: 10_000 })
    .toBeGreaterThanOrEqual(count);
}

const raise = (severity: "RED" | "YELLOW" = "RED") => {
  const n = ++sequence;
  const fingerprint = `api.test:${n}`;
  return raiseAlert(
    { ...quietDeps(api.database.db), events: bus.bus },
    { fingerprint, ruleKey: testRuleKey("api.test"), severity, title: `API test ${n}`, detail: `detail ${n}` },
    new Date(),
  ).then(() => api.database.db.alert.findUniqueOrThrow({ where: { fingerprint } }));
};

const globalId = (id: string) => Buffer.from(`Alert:${id}`).toString("base64");

beforeAll(async () => {
  api = await startTestApi();
  // A second API process of the same stack: same database, same Redis prefix.
  secondApp = buildApp(api.env, createLogger("api-test-2", "silent"));
  secondUrl = await secondApp.start();
  bus = createEventBus(api.env.REDIS_URL, api.env.REDIS_PREFIX);
  redis = new Redis(api.env.REDIS_URL);
  receivers = await startNotifySandbox();
  await createOperator(api.database.db, "OPERATOR", "opal@test.example");
  await createOperator(api.database.db, "VIEWER", "vera@test.example");
  await createOperator(api.database.db, "ADMIN", "adam@test.example");
  operatorCookie = await api.loginCookie("opal@test.example", TEST_PASSWORD);
  viewerCookie = await api.loginCookie("vera@test.example", TEST_PASSWORD);
  adminCookie = await api.loginCookie("adam@test.example", TEST_PASSWORD);
});
afterAll(async () => {
  for (const client of clients) await client.dispose();
  await bus?.close();
  redis?.disconnect();
  await receivers?.stop();
  await secondApp?.stop();
  await api?.stop();
});

describe("alertChanged across API processes", () => {
  it("reaches subscribers of both API instances when core publishes in another process", async () => {
    const received: Record<string, { fingerprint: string; status: string }[]> = { first: [], second: [] };
    const errors: unknown[] = [];
    for (const [name, url] of [
      ["first", api.url],
      ["second", secondUrl],
    ] as const) {
      wsClient(url, viewerCookie).subscribe<{ alertChanged: { fingerprint: string; status: string } }>(
        { query: ALERT_CHANGED },
        {
          next: (result) => {
            if (result.data) received[name]!.push(result.data.alertChanged);
            if (result.errors) errors.push(...result.errors);
          },
          error: (error) => errors.push(error),
          complete: () => undefined,
        },
      );
    }
    await subscribers(2);
    const alert = await raise();
    for (const name of ["first", "second"])
      await expect.poll(() => received[name]!.map((event) => event.fingerprint)).toContain(alert.fingerprint);
    expect(errors).toEqual([]);

    // An operator's action on one instance reaches the other's subscriber too.
    const acknowledged = await api.graphql<{ acknowledgeAlert: { __typename: string } }>(
      `mutation ($id: ID!) { acknowledgeAlert(id: $id) { __typename } }`,
      { id: globalId(alert.id) },
      { cookie: operatorCookie },
    );
    expect(acknowledged.data?.acknowledgeAlert.__typename).toBe("MutationAcknowledgeAlertSuccess");
    await expect
      .poll(() =>
        received.second!.filter((event) => event.fingerprint === alert.fingerprint).map((event) => event.status),
      )
      .toContain("ACKNOWLEDGED");
  });
});

describe("the operator's actions over GraphQL", () => {
  it("lists open alerts red first, with timeline and deliveries", async () => {
    const yellow = await raise("YELLOW");
    const red = await raise("RED");
    const listed = await api.graphql<{
      alerts: { edges: { node: { id: string; severity: string; title: string } }[] };
    }>(
      `{ alerts(filter: { status: [FIRING] }) { edges { node { id severity title } } } }`,
      {},
      { cookie: viewerCookie },
    );
    const titles = listed.data!.alerts.edges.map((edge) => edge.node.title);
    expect(titles.indexOf(red.title)).toBeLessThan(titles.indexOf(yellow.title));
    const detail = await api.graphql<{ alert: { timeline: { kind: string }[]; deliveries: unknown[] } }>(
      `query ($id: ID!) { alert(id: $id) { timeline { kind message } deliveries { channelName status } } }`,
      { id: globalId(red.id) },
      { cookie: viewerCookie },
    );
    expect(detail.data?.alert.timeline.map((event) => event.kind)).toEqual(["FIRED"]);
  });

  it("says when a condition still holds (seen again just now), so resolving it would only reopen it", async () => {
    const once = await raise();
    const again = await raise();
    await raiseAlert(quietDeps(api.database.db), {
      fingerprint: again.fingerprint,
      ruleKey: testRuleKey("api.test"),
      severity: "RED",
      title: again.title,
      detail: "seen again",
    });
    const read = (id: string) =>
      api.graphql<{ alert: { conditionStillHolds: boolean } }>(
        `query ($id: ID!) { alert(id: $id) { conditionStillHolds } }`,
        { id: globalId(id) },
        { cookie: viewerCookie },
      );
    expect((await read(once.id)).data?.alert.conditionStillHolds).toBe(false);
    expect((await read(again.id)).data?.alert.conditionStillHolds).toBe(true);
  });

  it("answers typed errors for a resolved alert, a bad silence and a viewer, and changes nothing", async () => {
    const alert = await raise();
    const id = globalId(alert.id);
    const resolve = await api.graphql<{ resolveAlert: { __typename: string } }>(
      `mutation ($id: ID!) { resolveAlert(id: $id, note: "Rotated the key") { __typename ... on MutationResolveAlertSuccess { data { status resolutionNote } } } }`,
      { id },
      { cookie: operatorCookie },
    );
    expect(resolve.data?.resolveAlert).toMatchObject({
      data: { status: "RESOLVED", resolutionNote: "Rotated the key" },
    });
    const again = await api.graphql<{ acknowledgeAlert: { __typename: string; message: string } }>(
      `mutation ($id: ID!) { acknowledgeAlert(id: $id) { __typename ... on Error { message } } }`,
      { id },
      { cookie: operatorCookie },
    );
    expect(again.data?.acknowledgeAlert.__typename).toBe("AlertResolvedError");

    const open = await raise();
    for (const until of [new Date(Date.now() - 3_600_000), new Date(Date.now() + 30 * 86_400_000)]) {
      const silence = await api.graphql<{ silenceAlert: { __typename: string } }>(
        `mutation ($id: ID!, $until: DateTime!) { silenceAlert(id: $id, until: $until) { __typename ... on Error { message } } }`,
        { id: globalId(open.id), until: until.toISOString() },
        { cookie: operatorCookie },
      );
      expect(silence.data?.silenceAlert.__typename).toBe("InvalidInputError");
    }
    const byViewer = await api.graphql(
      `mutation ($id: ID!) { acknowledgeAlert(id: $id) { __typename } }`,
      { id: globalId(open.id) },
      { cookie: viewerCookie },
    );
    expect(byViewer.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    const unchanged = await api.database.db.alert.findUniqueOrThrow({ where: { id: open.id } });
    expect(unchanged).toMatchObject({ status: "FIRING", silencedUntil: null, acknowledgedById: null });
  });
});

describe("notification channels (ADMIN)", () => {
  it("stores secrets without returning them, refuses bad URLs, and reports a failing test as a result", async () => {
    const upsert = `mutation ($name: String!, $kind: ChannelKind!, $url: String, $secret: String) {
      upsertNotificationChannel(name: $name, kind: $kind, severities: [RED], url: $url, secret: $secret) {
        __typename
        ... on MutationUpsertNotificationChannelSuccess { data { id name target hasSecret } }
        ... on Error { message }
      }
    }`;
    type Upsert = {
      upsertNotificationChannel: { __typename: string; data?: { id: string; target: string; hasSecret: boolean } };
    };
    const created = await api.graphql<Upsert>(
      upsert,
      { name: "Tickets", kind: "WEBHOOK", url: `${receivers.url}/webhook/t`, secret: DEFAULT_WEBHOOK_SECRET },
      { cookie: adminCookie },
    );
    expect(created.data?.upsertNotificationChannel.data).toMatchObject({
      target: `${receivers.url}/webhook/t`,
      hasSecret: true,
    });
    const bad = await api.graphql<Upsert>(
      upsert,
      { name: "Bad", kind: "WEBHOOK", url: "http://tickets.example.com/x", secret: "s3cret-s3cret-s3cret" },
      { cookie: adminCookie },
    );
    expect(bad.data?.upsertNotificationChannel.__typename).toBe("InvalidInputError");
    const byOperator = await api.graphql(`{ notificationChannels { id } }`, {}, { cookie: operatorCookie });
    expect(byOperator.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");

    const listed = await api.graphql(
      `{ notificationChannels { id name kind target hasSecret severities } }`,
      {},
      {
        cookie: adminCookie,
      },
    );
    expect(JSON.stringify(listed)).toContain("Tickets");
    expect(JSON.stringify(listed)).not.toContain(DEFAULT_WEBHOOK_SECRET);

    receivers.fail(1);
    const test = await api.graphql<{
      testNotificationChannel: { __typename: string; data?: { ok: boolean; responseCode: number } };
    }>(
      `mutation ($id: ID!) { testNotificationChannel(id: $id) { __typename ... on MutationTestNotificationChannelSuccess { data { ok responseCode message } } } }`,
      { id: created.data!.upsertNotificationChannel.data!.id },
      { cookie: adminCookie },
    );
    expect(test.data?.testNotificationChannel.data).toMatchObject({ ok: false, responseCode: 500 });
    const retest = await api.graphql<{ testNotificationChannel: { data?: { ok: boolean } } }>(
      `mutation ($id: ID!) { testNotificationChannel(id: $id) { ... on MutationTestNotificationChannelSuccess { data { ok } } } }`,
      { id: created.data!.upsertNotificationChannel.data!.id },
      { cookie: adminCookie },
    );
    expect(retest.data?.testNotificationChannel.data?.ok).toBe(true);
    expect(receivers.received("webhook").at(-1)).toMatchObject({ signatureValid: true, status: 200 });
  });
});
