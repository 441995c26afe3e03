// A job on a one-at-a-time queue (outbox, reconciliation, nightly) never runs twice at once, even
// across two worker processes: a run-now that arrives while a run is in progress waits for it, and
// then runs (never dropped, never doubled). BullMQ's global concurrency does it, no lock of ours.
import { createLogger } from "@steward/core/logger";
import { z } from "zod";
import { afterAll, beforeAll, expect, it } from "vitest";
import { defineJob } from "../../worker/src/jobs/definition.ts";
import { buildWorker, type StewardWorker } from "../../worker/src/worker.ts";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";
import { testEnv } from "../support/env.ts";

let database: TestDatabase;
const workers: StewardWorker[] = [];
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  for (const worker of workers) await worker.stop();
  await database.drop();
});

it("two workers, three runs requested at once: they run one after another", async () => {
  const env = testEnv(database.url);
  let running = 0;
  let overlapped = false;
  const slowNightly = defineJob({
    name: "slow-nightly",
    description: "takes a while",
    queue: "nightly",
    schedule: { pattern: "0 3 1 1 *", tz: "UTC" },
    payload: z.object({}).passthrough(),
    async handler() {
      running++;
      if (running > 1) overlapped = true;
      await new Promise((resolve) => setTimeout(resolve, 400));
      running--;
      return { summary: "done" };
    },
  });
  for (let index = 0; index < 2; index++) {
    const worker = buildWorker(env, createLogger("t", "silent"), [slowNightly]);
    await worker.start();
    workers.push(worker);
  }
  await Promise.all([0, 1, 2].map(() => workers[0]!.queues.add("slow-nightly", { trigger: "MANUAL" })));

  await expect
    .poll(() => database.db.jobRun.count({ where: { jobName: "slow-nightly", status: "SUCCEEDED" } }), {
      timeout: 20_000,
    })
    .toBe(3);
  expect(overlapped).toBe(false);
  const runs = await database.db.jobRun.findMany({ where: { jobName: "slow-nightly" }, orderBy: { startedAt: "asc" } });
  for (let index = 1; index < runs.length; index++) {
    expect(runs[index]!.startedAt.getTime()).toBeGreaterThanOrEqual(runs[index - 1]!.finishedAt!.getTime());
  }
  expect(runs.every((run) => run.attempt === 1)).toBe(true);
});
