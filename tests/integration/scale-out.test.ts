// Scale-out: two API instances and two workers on one PostgreSQL and one Redis (one key prefix)
// behave as one. An event published by any process reaches subscribers on both APIs; a session
// is valid (and ended) on both; rate limits are shared; a scheduled job runs once per tick
// across the two workers, and the job lock keeps its runs from ever overlapping.
import { createLogger } from "@steward/core/logger";
import { createBullJobQueues } from "@steward/jobs/bullmq";
import { type Client, createClient } from "graphql-ws";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { z } from "zod";
import { buildApp, type App } from "../../api/src/app.ts";
import { defineJob } from "../../worker/src/jobs/definition.ts";
import { heartbeatJob } from "../../worker/src/jobs/heartbeat.ts";
import { buildWorker, type StewardWorker } from "../../worker/src/worker.ts";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";
import { testEnv } from "../support/env.ts";
import { createOperator, TEST_PASSWORD } from "../support/fixtures.ts";
import type { Env } from "@steward/core/env";

const TICK_MS = 1_000;
let running = 0;
let overlapped = false;
/** Scheduled every second and slower than a third of that, so doubled or overlapping runs would show. */
const tickJob = defineJob({
  name: "scale-tick",
  description: "a scheduled job for the scale-out test",
  // A one-at-a-time workload: its jobs never overlap, across every worker (BullMQ global concurrency).
  queue: "nightly",
  schedule: { pattern: "* * * * * *", tz: "UTC" },
  payload: z.object({}).passthrough(),
  async handler() {
    running++;
    if (running > 1) overlapped = true;
    await new Promise((resolve) => setTimeout(resolve, 350));
    running--;
    return { summary: "ticked" };
  },
});

let database: TestDatabase;
let env: Env;
const apps: App[] = [];
const urls: string[] = [];
const workers: StewardWorker[] = [];
const clients: Client[] = [];
let redis: Redis;
let cookie: string;
let workersStartedAt = 0;

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
    body: (await response.json()) as { data?: Record<string, unknown> | null; errors?: { message: string }[] },
  };
}

function socket(url: string) {
  const headers = { cookie };
  class CookieWebSocket extends WebSocket {
    constructor(address: string | URL, protocols?: string | string[]) {
      super(address, protocols, { headers });
    }
  }
  let closeCode: number | undefined;
  const client = createClient({
    url: `${url.replace(/^http/, "ws")}/graphql`,
    webSocketImpl: CookieWebSocket,
    retryAttempts: 0,
    on: {
      closed: (event) => {
        if (typeof event === "object" && event !== null && "code" in event && typeof event.code === "number")
          closeCode = event.code;
      },
    },
  });
  clients.push(client);
  const runs: { id: string; status: string; trigger: string }[] = [];
  const connected = new Promise<void>((resolve) => client.on("connected", () => resolve()));
  client.subscribe<{ jobRunRecorded: { id: string; status: string; trigger: string } }>(
    { query: "subscription { jobRunRecorded { id status trigger jobName } }" },
    {
      next: (result) => {
        if (result.data) runs.push(result.data.jobRunRecorded);
      },
      error: () => undefined,
      complete: () => undefined,
    },
  );
  return { runs, connected, closeCode: () => closeCode };
}

beforeAll(async () => {
  database = await createTestDatabase();
  // One stack: the same database, Redis and key prefix for every process, as in production.
  env = testEnv(database.url, { RATE_LIMIT_PER_TOKEN: "4" });
  redis = new Redis(env.REDIS_URL);
  for (let index = 0; index < 2; index++) {
    const app = buildApp(env, createLogger(`api-${index}`, "silent"));
    apps.push(app);
    urls.push(await app.start());
  }
  workersStartedAt = Date.now();
  for (let index = 0; index < 2; index++) {
    const worker = buildWorker(env, createLogger(`worker-${index}`, "silent"), [heartbeatJob, tickJob]);
    await worker.start();
    workers.push(worker);
  }
  await createOperator(database.db, "ADMIN", "ada@test.example");
  const login = await graphql(
    urls[0]!,
    `mutation { login(email: "ada@test.example", password: "${TEST_PASSWORD}") { __typename } }`,
  );
  cookie = login.setCookie!.split(";")[0]!;
});
afterAll(async () => {
  for (const client of clients) await client.dispose();
  for (const worker of workers) await worker.stop();
  if (env) {
    const queue = createBullJobQueues({ redisUrl: env.REDIS_URL, prefix: env.REDIS_PREFIX });
    await queue.obliterate();
    await queue.close();
  }
  redis?.disconnect();
  for (const app of apps) await app.stop();
  await database?.drop();
});

describe("two API instances and two workers", () => {
  it("deliver a job run published by a worker to subscribers on both APIs, whichever API queued it", async () => {
    const [onA, onB] = [socket(urls[0]!), socket(urls[1]!)];
    await Promise.all([onA.connected, onB.connected]);
    // Both APIs listen on the stack's channel before anything is published.
    await expect
      .poll(async () =>
        Number(((await redis.pubsub("NUMSUB", `${env.REDIS_PREFIX}:events:jobRunRecorded`)) as [string, number])[1]),
      )
      .toBe(2);

    const runNow = await graphql(
      urls[1]!,
      `
        mutation {
          runJobNow(jobName: "heartbeat") {
            __typename
          }
        }
      `,
      {},
      { cookie },
    );
    expect(runNow.body.data?.runJobNow).toEqual({ __typename: "MutationRunJobNowSuccess" });
    const manual = (runs: { status: string; trigger: string }[]) =>
      runs.filter((run) => run.trigger === "MANUAL").map((run) => run.status);
    await expect.poll(() => manual(onA.runs), { timeout: 15_000 }).toEqual(["RUNNING", "SUCCEEDED"]);
    await expect.poll(() => manual(onB.runs), { timeout: 5_000 }).toEqual(["RUNNING", "SUCCEEDED"]);
    const runIds = (runs: { id: string; trigger: string }[]) =>
      new Set(runs.filter((run) => run.trigger === "MANUAL").map((run) => run.id));
    expect(runIds(onA.runs)).toEqual(runIds(onB.runs));
    // Exactly one of the two workers ran it.
    expect(await database.db.jobRun.count({ where: { jobName: "heartbeat", trigger: "MANUAL" } })).toBe(1);
  });

  it("run a scheduled job once per tick across both workers, never two runs at once", async () => {
    // Run-now requests from both sides while the schedule fires: the queue's global concurrency of
    // one makes them wait their turn.
    await new Promise((resolve) => setTimeout(resolve, 2 * TICK_MS));
    await Promise.all(workers.map((worker) => worker.queues.add(tickJob.contract.name, { trigger: "MANUAL" })));
    await new Promise((resolve) => setTimeout(resolve, 4 * TICK_MS));
    await workers[0]!.queues.removeSchedule(tickJob.contract.name);
    const scheduleSeconds = (Date.now() - workersStartedAt) / 1000;
    // The run-nows that met a running tick wait in the queue; they run after.
    await expect
      .poll(
        () =>
          database.db.jobRun.count({
            where: { jobName: tickJob.contract.name, trigger: "MANUAL", status: "SUCCEEDED" },
          }),
        {
          timeout: 15_000,
        },
      )
      .toBe(2);
    await expect
      .poll(() => database.db.jobRun.count({ where: { jobName: tickJob.contract.name, status: "RUNNING" } }), {
        timeout: 5_000,
      })
      .toBe(0);

    const runs = await database.db.jobRun.findMany({
      where: { jobName: tickJob.contract.name },
      orderBy: { startedAt: "asc" },
    });
    const scheduled = runs.filter((run) => run.trigger === "SCHEDULE");
    expect(scheduled.length).toBeGreaterThanOrEqual(3);
    // Both workers upserted the same scheduler: one job per second, not one per worker.
    expect(scheduled.length).toBeLessThanOrEqual(Math.ceil(scheduleSeconds) + 1);
    // One run per tick: every scheduled run comes from its own tick (its own queue job).
    expect(new Set(scheduled.map((run) => run.queueJobId)).size).toBe(scheduled.length);
    expect(runs.filter((run) => run.trigger === "MANUAL")).toHaveLength(2);
    expect(runs.every((run) => run.status === "SUCCEEDED" && run.attempt === 1)).toBe(true);
    expect(overlapped).toBe(false);
    for (let index = 1; index < runs.length; index++) {
      expect(runs[index]!.startedAt.getTime()).toBeGreaterThanOrEqual(runs[index - 1]!.finishedAt!.getTime());
    }
  });

  it("share rate limits: a token's budget is spent across both APIs", async () => {
    const created = await graphql(
      urls[0]!,
      `
        mutation {
          createApiToken(name: "shared budget", scopes: [READ]) {
            ... on MutationCreateApiTokenSuccess {
              data {
                token
              }
            }
          }
        }
      `,
      {},
      { cookie },
    );
    const token = (created.body.data?.createApiToken as { data: { token: string } }).data.token;
    const statuses: number[] = [];
    for (let request = 0; request < 5; request++) {
      statuses.push((await graphql(urls[request % 2]!, "{ regions { id } }", {}, { bearer: token })).status);
    }
    expect(statuses).toEqual([200, 200, 200, 200, 429]);
  });

  it("end a session on both APIs at once: signed out on one, its socket on the other closes", async () => {
    const onB = socket(urls[1]!);
    await onB.connected;
    const me = await graphql(urls[1]!, "{ me { email } }", {}, { cookie });
    expect(me.body.data?.me).toEqual({ email: "ada@test.example" });

    await graphql(urls[0]!, "mutation { logout }", {}, { cookie });
    await expect.poll(onB.closeCode, { timeout: 5_000 }).toBe(4401);
    expect((await graphql(urls[1]!, "{ me { email } }", {}, { cookie })).body.data?.me).toBeNull();
  });
});
