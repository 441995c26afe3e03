// Live job runs over graphql-ws, end to end across processes: the API enqueues a run-now, a real
// worker runs it and publishes on Redis, and the API pushes each state to the subscriber.
import { createLogger } from "@steward/core/logger";
import { createBullJobQueues } from "@steward/jobs/bullmq";
import { type Client, createClient } from "graphql-ws";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { buildWorker, type StewardWorker } from "../../worker/src/worker.ts";
import { jobCatalog } from "../../worker/src/registry.ts";
import { startTestApi, type TestApi } from "../support/api.ts";
import { createOperator, TEST_PASSWORD } from "../support/fixtures.ts";

const JOB_RUN_RECORDED = `subscription {
  jobRunRecorded { id jobName status trigger attempt triggeredBy { email } }
}`;

interface RecordedRun {
  id: string;
  jobName: string;
  status: string;
  trigger: string;
  attempt: number;
  triggeredBy: { email: string } | null;
}

let api: TestApi;
let worker: StewardWorker;
let redis: Redis;
let operatorId: string;
let operatorCookie: string;
const clients: Client[] = [];

/** A graphql-ws client for the test API; the cookie travels in the upgrade request, as in a browser. */
function wsClient(options: { cookie?: string; connectionParams?: Record<string, unknown> } = {}): Client {
  const headers: Record<string, string> = options.cookie ? { cookie: options.cookie } : {};
  class BrowserLikeWebSocket extends WebSocket {
    constructor(address: string | URL, protocols?: string | string[]) {
      super(address, protocols, { headers });
    }
  }
  const client = createClient({
    url: `${api.url.replace(/^http/, "ws")}/graphql`,
    webSocketImpl: BrowserLikeWebSocket,
    retryAttempts: 0,
    ...(options.connectionParams ? { connectionParams: options.connectionParams } : {}),
  });
  clients.push(client);
  return client;
}

/** Resolves once the API listens on the jobRunRecorded channel, so no event can be missed. */
async function apiIsListening(): Promise<void> {
  const channel = `${api.env.REDIS_PREFIX}:events:jobRunRecorded`;
  await expect
    .poll(async () => {
      const reply = (await redis.pubsub("NUMSUB", channel)) as [string, number];
      return Number(reply[1]);
    })
    .toBeGreaterThan(0);
}

beforeAll(async () => {
  api = await startTestApi();
  redis = new Redis(api.env.REDIS_URL);
  operatorId = (await createOperator(api.database.db, "OPERATOR", "olive@test.example")).id;
  operatorCookie = await api.loginCookie("olive@test.example", TEST_PASSWORD);
  // Same env as the API: same database and Redis prefix, as a second process of the same stack.
  worker = buildWorker(api.env, createLogger("worker-test", "silent"), jobCatalog(api.env));
  await worker.start();
});
afterAll(async () => {
  for (const client of clients) await client.dispose();
  await worker?.stop();
  if (api) {
    const queue = createBullJobQueues({ redisUrl: api.env.REDIS_URL, prefix: api.env.REDIS_PREFIX });
    await queue.obliterate();
    await queue.close();
  }
  redis?.disconnect();
  await api?.stop();
});

describe("jobRunRecorded", () => {
  it("pushes RUNNING then SUCCEEDED for a run-now executed by the worker", async () => {
    const received: RecordedRun[] = [];
    const errors: unknown[] = [];
    wsClient({ cookie: operatorCookie }).subscribe<{ jobRunRecorded: RecordedRun }>(
      { query: JOB_RUN_RECORDED },
      {
        next: (result) => {
          if (result.data) received.push(result.data.jobRunRecorded);
          if (result.errors) errors.push(...result.errors);
        },
        error: (error) => errors.push(error),
        complete: () => undefined,
      },
    );
    await apiIsListening();

    const runNow = await api.graphql<{ runJobNow: { __typename: string; data?: string } }>(
      `mutation { runJobNow(jobName: "heartbeat") { __typename ... on MutationRunJobNowSuccess { data } } }`,
      {},
      { cookie: operatorCookie },
    );
    const queueJobId = runNow.data?.runJobNow.data;
    expect(queueJobId).toBeTruthy();

    // The scheduler may also fire at a minute boundary: follow the manual run only.
    const manual = (): RecordedRun[] => received.filter((run) => run.trigger === "MANUAL");
    await expect.poll(() => manual().map((run) => run.status), { timeout: 15_000 }).toContain("SUCCEEDED");
    expect(errors).toEqual([]);
    expect(manual().map((run) => run.status)).toEqual(["RUNNING", "SUCCEEDED"]);
    expect(new Set(manual().map((run) => run.id)).size).toBe(1);
    expect(manual()[0]).toMatchObject({
      jobName: "heartbeat",
      attempt: 1,
      triggeredBy: { email: "olive@test.example" },
    });

    const row = await api.database.db.jobRun.findUniqueOrThrow({
      where: { queueJobId_attempt: { queueJobId: queueJobId!, attempt: 1 } },
    });
    expect(row).toMatchObject({
      jobName: "heartbeat",
      trigger: "MANUAL",
      triggeredById: operatorId,
      status: "SUCCEEDED",
      error: null,
    });
    expect(row.summary).toMatch(/worker alive; PostgreSQL answered in [\d.]+ ms/);
    expect(row.durationMs).toBeGreaterThanOrEqual(0);
    expect(row.finishedAt!.getTime()).toBeGreaterThanOrEqual(row.startedAt.getTime());
  });

  it("closes an anonymous socket with 4403 and sends it nothing", async () => {
    const received: unknown[] = [];
    let closeCode: number | undefined;
    const client = wsClient();
    client.on("closed", (event) => {
      if (typeof event === "object" && event !== null && "code" in event && typeof event.code === "number")
        closeCode = event.code;
    });
    const outcome = await new Promise<unknown>((resolve) => {
      client.subscribe(
        { query: JOB_RUN_RECORDED },
        { next: (result) => received.push(result), error: resolve, complete: () => resolve("completed") },
      );
    });
    expect(closeCode).toBe(4403);
    expect(outcome).not.toBe("completed");
    expect(received).toEqual([]);
  });

  it("closes a socket that presents a forged bearer token with 4403", async () => {
    let closeCode: number | undefined;
    const client = createClientWithForgedToken((code) => {
      closeCode = code;
    });
    const outcome = await new Promise<unknown>((resolve) => {
      client.subscribe(
        { query: JOB_RUN_RECORDED },
        { next: resolve, error: resolve, complete: () => resolve("completed") },
      );
    });
    expect(closeCode).toBe(4403);
    expect(outcome).not.toHaveProperty("data");
  });
});

describe("a signed-out session", () => {
  it("has its open sockets closed (4401), so no event reaches a signed-out browser", async () => {
    const cookie = await api.loginCookie("olive@test.example", TEST_PASSWORD);
    const client = wsClient({ cookie });
    let closeCode: number | undefined;
    client.on("closed", (event) => {
      if (typeof event === "object" && event !== null && "code" in event && typeof event.code === "number")
        closeCode = event.code;
    });
    const connected = new Promise<void>((resolve) => client.on("connected", () => resolve()));
    client.subscribe(
      { query: JOB_RUN_RECORDED },
      { next: () => undefined, error: () => undefined, complete: () => undefined },
    );
    await connected;
    const logout = await api.graphql<{ logout: boolean }>(`mutation { logout }`, {}, { cookie });
    expect(logout.data?.logout).toBe(true);
    await expect.poll(() => closeCode, { timeout: 5_000 }).toBe(4401);
  });
});

function createClientWithForgedToken(onClose: (code: number) => void): Client {
  const client = wsClient({ connectionParams: { authorization: "Bearer stw_forged-token" } });
  client.on("closed", (event) => {
    if (typeof event === "object" && event !== null && "code" in event && typeof event.code === "number")
      onClose(event.code);
  });
  return client;
}
