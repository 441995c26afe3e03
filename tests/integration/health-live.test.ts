// Across processes through Redis: a health-checks run in the worker reaches a healthChanged
// subscriber on the API; GET /metrics carries the API's own metrics and the worker's; the API's
// sliding-window summary reaches the worker's health check.
import { createApiToken } from "@steward/core/apiTokens";
import { readWindowSummary } from "@steward/core/apiWindow";
import { createLogger } from "@steward/core/logger";
import { createBullJobQueues } from "@steward/jobs/bullmq";
import { type Client, createClient } from "graphql-ws";
import { Redis } from "ioredis";
import WebSocket from "ws";
import { afterAll, beforeAll, expect, it } from "vitest";
import { jobCatalog } from "../../worker/src/registry.ts";
import { buildWorker, type StewardWorker } from "../../worker/src/worker.ts";
import { startTestApi, type TestApi } from "../support/api.ts";
import { createOperator, TEST_PASSWORD } from "../support/fixtures.ts";

let api: TestApi;
let worker: StewardWorker;
let redis: Redis;
let ws: Client;
let viewerCookie: string;
let metricsToken: string;

beforeAll(async () => {
  api = await startTestApi();
  await createOperator(api.database.db, "VIEWER", "vic@test.example");
  const admin = await createOperator(api.database.db, "ADMIN", "ada@test.example");
  metricsToken = (
    await createApiToken(
      { db: api.database.db },
      { kind: "OPERATOR", ...admin },
      { name: "prometheus", scopes: ["metrics:read"] },
    )
  ).token;
  viewerCookie = await api.loginCookie("vic@test.example", TEST_PASSWORD);
  worker = buildWorker(api.env, createLogger("worker-test", "silent"), jobCatalog(api.env));
  await worker.start();
  redis = new Redis(api.env.REDIS_URL, { maxRetriesPerRequest: null });
});

afterAll(async () => {
  await ws.dispose();
  redis.disconnect();
  await worker.stop();
  await api.stop();
});

function enqueue(jobName: string): Promise<unknown> {
  const queue = createBullJobQueues({ redisUrl: api.env.REDIS_URL, prefix: api.env.REDIS_PREFIX });
  return queue.add(jobName, { trigger: "MANUAL" }).finally(() => queue.close());
}

it("a health-checks run in the worker is pushed to a healthChanged subscriber with every check", async () => {
  const cookie = viewerCookie;
  class BrowserLikeWebSocket extends WebSocket {
    constructor(address: string | URL, protocols?: string | string[]) {
      super(address, protocols, { headers: { cookie } });
    }
  }
  ws = createClient({
    url: `${api.url.replace(/^http/, "ws")}/graphql`,
    webSocketImpl: BrowserLikeWebSocket,
    retryAttempts: 0,
  });
  const received: { overall: string; checks: { check: string; latest: { status: string } | null }[] }[] = [];
  const errors: unknown[] = [];
  ws.subscribe<{ healthChanged: (typeof received)[number] }>(
    { query: `subscription { healthChanged { overall checks { check latest { status } } } }` },
    {
      next: (result) => {
        if (result.data) received.push(result.data.healthChanged);
        if (result.errors) errors.push(...result.errors);
      },
      error: (error) => errors.push(error),
      complete: () => undefined,
    },
  );
  const channel = `${api.env.REDIS_PREFIX}:events:healthChanged`;
  await expect
    .poll(async () => Number(((await redis.pubsub("NUMSUB", channel)) as [string, number])[1]))
    .toBeGreaterThan(0);
  await enqueue("health-checks");
  await expect.poll(() => received.length, { timeout: 30_000 }).toBeGreaterThan(0);
  expect(errors).toEqual([]);
  expect(received[0]?.checks).toHaveLength(11);
  // The database p95 of the API's and the worker's own queries, read from their windows in Redis.
  expect(received[0]?.checks.find((check) => check.check === "postgres_query_p95")?.latest).not.toBeNull();
  expect(received[0]?.checks.find((check) => check.check === "postgres")?.latest?.status).toBe("GREEN");
  expect(["GREEN", "YELLOW", "RED"]).toContain(received[0]?.overall);
});

it("the worker's job outcomes appear in the API's /metrics", async () => {
  const queue = createBullJobQueues({ redisUrl: api.env.REDIS_URL, prefix: api.env.REDIS_PREFIX });
  await queue.add("heartbeat", { trigger: "MANUAL" });
  await queue.close();
  await expect
    .poll(
      async () => {
        const response = await fetch(`${api.url}/metrics`, { headers: { authorization: `Bearer ${metricsToken}` } });
        return response.text();
      },
      { timeout: 20_000, interval: 500 },
    )
    .toMatch(/steward_worker_job_runs_total\{job="heartbeat",outcome="succeeded"\} [1-9]/);
  const body = await (
    await fetch(`${api.url}/metrics`, { headers: { authorization: `Bearer ${metricsToken}` } })
  ).text();
  expect(body).toContain("steward_worker_job_duration_seconds_bucket");
});

it("the API's 5-minute window summary is readable from Redis by the health check", async () => {
  for (let i = 0; i < 5; i++) await api.graphql(`{ __typename }`);
  await expect
    .poll(async () => (await readWindowSummary(redis, api.env.REDIS_PREFIX)).requests, {
      timeout: 15_000,
      interval: 500,
    })
    .toBeGreaterThanOrEqual(5);
  const summary = await readWindowSummary(redis, api.env.REDIS_PREFIX);
  expect(summary.errors).toBe(0);
  expect(summary.p95Ms).toBeGreaterThan(0);
});
