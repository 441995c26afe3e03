// The worker process: upserts every scheduled job from the catalog (so a Redis flush or a deploy
// restores the schedule), then processes jobs, recording each attempt in PostgreSQL.
import type { Env } from "@steward/core/env";
import { publishAlertChangesTo } from "@steward/core/alerts";
import { createEventBus } from "@steward/core/events";
import { pausedJobs } from "@steward/core/jobControl";
import { recordJobExhausted, recordJobSucceeded } from "@steward/core/jobHealth";
import { finishJobRun, startJobRun } from "@steward/core/jobRuns";
import type { Logger } from "@steward/core/logger";
import { createPrismaClient } from "@steward/db/client";
import { DelayedError, type Job, Queue, UnrecoverableError, Worker } from "bullmq";
import { Redis } from "ioredis";
import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import { pid } from "node:process";
import type { JobDefinition } from "./jobs/definition.ts";
import { createWorkerMetrics } from "./metrics.ts";
import { connectionFor, defaultJobOptions, JOBS_QUEUE, type JobData } from "./queue.ts";
import { validateCatalog } from "./registry.ts";

// Longer than any scheduled job should take; a crashed worker's lock expires by itself.
const EXCLUSIVE_LOCK_MS = 15 * 60_000;
const EXCLUSIVE_RETRY_MS = 2_000;

export interface StewardWorker {
  start(): Promise<void>;
  stop(): Promise<void>;
  queue: Queue<JobData>;
}

export function buildWorker(env: Env, logger: Logger, catalog: readonly JobDefinition[]): StewardWorker {
  const jobs = validateCatalog(catalog);
  const connection = connectionFor(env.REDIS_URL);
  const db = createPrismaClient(env.DATABASE_URL, env.WORKER_CONCURRENCY + 2);
  const events = createEventBus(env.REDIS_URL, env.REDIS_PREFIX);
  // Alerts raised anywhere in this process (rules, job health) are published on this bus.
  const unregisterAlertEvents = publishAlertChangesTo(events.bus);
  const queue = new Queue<JobData>(JOBS_QUEUE, { connection, prefix: env.REDIS_PREFIX, defaultJobOptions });
  queue.on("error", (error) => logger.error({ err: error }, "queue error"));
  let worker: Worker<JobData> | undefined;
  const locks = new Redis(env.REDIS_URL, { maxRetriesPerRequest: null });
  locks.on("error", (error) => logger.error({ err: error }, "lock connection error"));
  const metrics = createWorkerMetrics();
  let stopPushingMetrics: (() => Promise<void>) | undefined;

  async function process(job: Job<JobData>, token?: string): Promise<string> {
    const definition = jobs.get(job.name);
    if (!definition) throw new UnrecoverableError(`No handler for job '${job.name}'`);
    // Scheduled jobs run one at a time across every worker process: a run-now that arrives while
    // the scheduled run is in progress waits for it (delayed, not dropped, never doubled).
    const exclusive = definition.schedule !== undefined;
    const lockKey = `${env.REDIS_PREFIX}:running:${job.name}`;
    if (exclusive && !(await locks.set(lockKey, job.id ?? "?", "PX", EXCLUSIVE_LOCK_MS, "NX"))) {
      await job.moveToDelayed(Date.now() + EXCLUSIVE_RETRY_MS, token);
      throw new DelayedError();
    }
    try {
      return await run(job, definition);
    } finally {
      if (exclusive) await locks.del(lockKey);
    }
  }

  async function run(job: Job<JobData>, definition: JobDefinition): Promise<string> {
    const attempt = job.attemptsMade + 1;
    const jobRunId = await startJobRun(db, events.bus, {
      jobName: job.name,
      queueJobId: job.id ?? `${job.name}:unknown`,
      trigger: attempt > 1 ? "RETRY" : (job.data.trigger ?? "SCHEDULE"),
      triggeredById: job.data.triggeredById ?? null,
      attempt,
    });
    const endTimer = metrics.jobDuration.startTimer({ job: job.name });
    try {
      const payload = definition.payload.safeParse(job.data.payload ?? {});
      if (!payload.success) throw new UnrecoverableError(`Invalid payload: ${payload.error.message}`);
      const outcome = await definition.handler(
        { db, env, events: events.bus, logger: logger.child({ job: job.name, jobRunId }), jobRunId, redis: locks },
        payload.data,
      );
      await finishJobRun(db, events.bus, jobRunId, { ok: true, outcome });
      await recordJobSucceeded(db, job.name);
      endTimer();
      metrics.jobRuns.inc({ job: job.name, outcome: "succeeded" });
      return outcome.summary;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      await finishJobRun(db, events.bus, jobRunId, { ok: false, error: message });
      const attempts = job.opts.attempts ?? 1;
      const exhausted = error instanceof UnrecoverableError || attempt >= attempts;
      if (exhausted) await recordJobExhausted(db, job.name, attempt, message);
      endTimer();
      metrics.jobRuns.inc({ job: job.name, outcome: exhausted ? "exhausted" : "failed" });
      throw error;
    }
  }

  return {
    queue,
    async start() {
      // Paused jobs stay unscheduled across restarts; everything else is (re)upserted, so a
      // Redis flush or a deploy restores the schedule.
      const paused = await pausedJobs(db);
      for (const definition of jobs.values()) {
        if (!definition.schedule) continue;
        if (paused.has(definition.name)) {
          await queue.removeJobScheduler(definition.name);
          continue;
        }
        await queue.upsertJobScheduler(
          definition.name,
          { pattern: definition.schedule.pattern, tz: definition.schedule.tz },
          { name: definition.name, data: { trigger: "SCHEDULE" }, opts: defaultJobOptions },
        );
      }
      worker = new Worker<JobData>(JOBS_QUEUE, process, {
        connection,
        prefix: env.REDIS_PREFIX,
        concurrency: env.WORKER_CONCURRENCY,
      });
      worker.on("error", (error) => logger.error({ err: error }, "worker error"));
      worker.on("failed", (job, error) => logger.warn({ job: job?.name, err: error.message }, "job attempt failed"));
      await worker.waitUntilReady();
      stopPushingMetrics = metrics.startPushing(locks, env.REDIS_PREFIX, `${hostname()}:${pid}:${randomUUID()}`);
      logger.info({ jobs: [...jobs.keys()] }, "worker started");
    },
    async stop() {
      await worker?.close();
      await stopPushingMetrics?.();
      await queue.close();
      locks.disconnect();
      unregisterAlertEvents();
      await events.close();
      await db.$disconnect();
    },
  };
}
