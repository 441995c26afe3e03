// The worker against real Redis and PostgreSQL: every attempt is its own JobRun row, permanent
// failures are not retried, and schedules are upserted once however many workers start.
import { createLogger } from "@steward/core/logger";
import { UnrecoverableError } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { defineJob, type JobBinding } from "../../worker/src/jobs/definition.ts";
import { heartbeatJob } from "../../worker/src/jobs/heartbeat.ts";
import { createBullJobQueues } from "@steward/jobs/bullmq";
import { buildWorker, type StewardWorker } from "../../worker/src/worker.ts";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";
import { testEnv } from "../support/env.ts";
import type { Env } from "@steward/core/env";

const calls = { flaky: 0, permanent: 0, strict: 0 };

const flakyJob = defineJob({
  name: "flaky",
  description: "Fails twice, then succeeds.",
  payload: z.object({}).passthrough(),
  handler() {
    calls.flaky++;
    if (calls.flaky <= 2) return Promise.reject(new Error(`flaky failure ${calls.flaky}`));
    return Promise.resolve({ summary: "third time lucky", changes: { calls: calls.flaky } });
  },
});

const permanentJob = defineJob({
  name: "permanent",
  description: "Fails in a way no retry can fix.",
  payload: z.object({}).passthrough(),
  handler() {
    calls.permanent++;
    return Promise.reject(new UnrecoverableError("card declined for good"));
  },
});

const strictJob = defineJob({
  name: "strict",
  description: "Needs a region.",
  payload: z.object({ regionId: z.string() }),
  handler() {
    calls.strict++;
    return Promise.resolve({ summary: "ran" });
  },
});

const catalog: readonly JobBinding[] = [heartbeatJob, flakyJob, permanentJob, strictJob];
const logger = createLogger("worker-test", "silent");

let database: TestDatabase;
let env: Env;
let worker: StewardWorker;
const workers: StewardWorker[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  env = testEnv(database.url);
  worker = buildWorker(env, logger, catalog);
  workers.push(worker);
  await worker.start();
});
afterAll(async () => {
  for (const running of workers) await running.stop();
  if (env) {
    const queue = createBullJobQueues({ redisUrl: env.REDIS_URL, prefix: env.REDIS_PREFIX });
    await queue.obliterate();
    await queue.close();
  }
  await database?.drop();
});

/** Waits until BullMQ is done with the job (completed or failed for good). */
async function settled(jobId: string): Promise<string> {
  let state = "unknown";
  await expect
    .poll(
      async () => {
        state = String(await worker.queues.getJobState(jobId));
        return state === "completed" || state === "failed";
      },
      { timeout: 15_000, interval: 50 },
    )
    .toBe(true);
  return state;
}

function runsOf(queueJobId: string) {
  return database.db.jobRun.findMany({ where: { queueJobId }, orderBy: { attempt: "asc" } });
}

describe("retries", () => {
  it("records every attempt as its own JobRun: FAILED, FAILED, then SUCCEEDED as a RETRY", async () => {
    const job = await worker.queues.add(
      "flaky",
      { trigger: "MANUAL" },
      { attempts: 3, backoff: { type: "fixed", delay: 50 } },
    );
    expect(await settled(job.id!)).toBe("completed");

    const runs = await runsOf(job.id!);
    expect(runs.map((run) => [run.attempt, run.trigger, run.status])).toEqual([
      [1, "MANUAL", "FAILED"],
      [2, "RETRY", "FAILED"],
      [3, "RETRY", "SUCCEEDED"],
    ]);
    expect(runs[0]!.error).toBe("flaky failure 1");
    expect(runs[1]!.error).toBe("flaky failure 2");
    expect(runs[2]).toMatchObject({ error: null, summary: "third time lucky", changes: { calls: 3 } });
    for (const run of runs) {
      expect(run.jobName).toBe("flaky");
      expect(run.finishedAt).toBeInstanceOf(Date);
      expect(run.durationMs).toBeGreaterThanOrEqual(0);
    }
  });

  it("does not retry an UnrecoverableError: one attempt, one FAILED run", async () => {
    const before = calls.permanent;
    const job = await worker.queues.add(
      "permanent",
      { trigger: "MANUAL" },
      { attempts: 5, backoff: { type: "fixed", delay: 50 } },
    );
    expect(await settled(job.id!)).toBe("failed");
    // Several backoff delays later, still nothing more.
    await new Promise((resolve) => setTimeout(resolve, 400));

    expect(calls.permanent - before).toBe(1);
    const runs = await runsOf(job.id!);
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ attempt: 1, status: "FAILED", error: "card declined for good" });
  });

  it("fails a job with an invalid payload once, without calling its handler", async () => {
    const job = await worker.queues.add(
      "strict",
      { trigger: "MANUAL", payload: { regionId: 42 } },
      { attempts: 5, backoff: { type: "fixed", delay: 50 } },
    );
    expect(await settled(job.id!)).toBe("failed");
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(calls.strict).toBe(0);
    const runs = await runsOf(job.id!);
    expect(runs).toHaveLength(1);
    expect(runs[0]!.status).toBe("FAILED");
    expect(runs[0]!.error).toMatch(/^Invalid payload/);
  });
});

describe("schedules", () => {
  it("upserts the heartbeat scheduler on start", async () => {
    const scheduler = await worker.queues.queueOf("heartbeat").getJobScheduler("heartbeat");
    expect(scheduler).toMatchObject({
      name: "heartbeat",
      pattern: heartbeatJob.contract.schedule!(env).pattern,
      tz: "UTC",
    });
    expect(await worker.queues.scheduleNames()).toEqual(["heartbeat"]);
  });

  it("keeps exactly one scheduler when a second worker (or a redeploy) starts", async () => {
    const second = buildWorker(env, logger, catalog);
    workers.push(second);
    await second.start();
    expect(await worker.queues.scheduleNames()).toEqual(["heartbeat"]);
  });

  it("refuses to build a worker whose catalog lists a job twice", () => {
    expect(() => buildWorker(env, logger, [...catalog, flakyJob])).toThrow(/'flaky' is defined twice/);
  });
});
