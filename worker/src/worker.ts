// The worker process: upserts every scheduled job from the catalog (so a Redis flush or a deploy
// restores the schedule), then processes jobs, recording each attempt in PostgreSQL.
import { createMailSender } from "@steward/core/adapters/nodemailer";
import { pgCopyIn } from "@steward/core/adapters/pgCopy";
import { createStripeGateway } from "@steward/core/adapters/stripe";
import type { Env } from "@steward/core/env";
import { createEventBus } from "@steward/core/adapters/redisEvents";
import { pausedJobs } from "@steward/core/jobControl";
import { recordJobExhausted, recordJobSucceeded } from "@steward/core/jobHealth";
import { finishJobRun, startJobRun } from "@steward/core/jobRuns";
import { publishQueryLatency, QueryLatencyWindow } from "@steward/core/queryLatency";
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

const EXCLUSIVE_RETRY_MS = 2_000;
// Handlers are idempotent, so a job whose worker was killed is simply run again; BullMQ's default
// (1) would fail it for good the second time its worker dies under it.
const MAX_STALLED_COUNT = 5;

// Renew the one-at-a-time lock only while it is still ours; release it only if it is ours.
const RENEW_IF_OURS = `if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("pexpire", KEYS[1], ARGV[2]) else return 0 end`;
const RELEASE_IF_OURS = `if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("del", KEYS[1]) else return 0 end`;

export interface StewardWorker {
  start(): Promise<void>;
  stop(): Promise<void>;
  queue: Queue<JobData>;
}

export function buildWorker(env: Env, logger: Logger, catalog: readonly JobDefinition[]): StewardWorker {
  const jobs = validateCatalog(catalog);
  const connection = connectionFor(env.REDIS_URL);
  // Every query is timed into this process's window: the database p95 health signal.
  const queryLatency = new QueryLatencyWindow();
  const db = createPrismaClient(env.DATABASE_URL, env.WORKER_CONCURRENCY + 2, { onQuery: queryLatency.record });
  const events = createEventBus(env.REDIS_URL, env.REDIS_PREFIX);
  // The vendor adapters, once per process: every job reaches Stripe and SMTP through these.
  const payments = createStripeGateway(env);
  const mail = createMailSender(env);
  const copyIn = pgCopyIn(env.DATABASE_URL);
  const queue = new Queue<JobData>(JOBS_QUEUE, { connection, prefix: env.REDIS_PREFIX, defaultJobOptions });
  queue.on("error", (error) => logger.error({ err: error }, "queue error"));
  let worker: Worker<JobData> | undefined;
  let scheduleCheck: NodeJS.Timeout | undefined;
  const locks = new Redis(env.REDIS_URL, { maxRetriesPerRequest: null });
  locks.on("error", (error) => logger.error({ err: error }, "lock connection error"));
  const metrics = createWorkerMetrics();
  let stopPushingMetrics: (() => Promise<void>) | undefined;
  let stopQueryLatency: (() => Promise<void>) | undefined;

  async function process(job: Job<JobData>, token?: string): Promise<string> {
    const definition = jobs.get(job.name);
    if (!definition) throw new UnrecoverableError(`No handler for job '${job.name}'`);
    // Scheduled jobs run one at a time across every worker process: a run-now that arrives while
    // the scheduled run is in progress waits for it (delayed, not dropped, never doubled).
    const exclusive = definition.schedule !== undefined;
    if (!exclusive) return run(job, definition);
    // The lock lives as long as the job's own BullMQ lock and is renewed with it, so a worker
    // killed mid-run blocks the next run for seconds, not for good. The same job delivered again
    // after a stall takes its own lock over: BullMQ only does that once the holder is gone.
    const lockKey = `${env.REDIS_PREFIX}:running:${job.name}`;
    const holder = `${job.id ?? "?"}`;
    const acquired =
      (await locks.set(lockKey, holder, "PX", env.WORKER_LOCK_MS, "NX")) === "OK" ||
      (await locks.eval(RENEW_IF_OURS, 1, lockKey, holder, env.WORKER_LOCK_MS)) === 1;
    if (!acquired) {
      await job.moveToDelayed(Date.now() + EXCLUSIVE_RETRY_MS, token);
      throw new DelayedError();
    }
    const renew = setInterval(() => {
      locks.eval(RENEW_IF_OURS, 1, lockKey, holder, env.WORKER_LOCK_MS).catch((error: unknown) => {
        logger.warn({ err: error, job: job.name }, "could not renew the job's lock");
      });
    }, env.WORKER_LOCK_MS / 3);
    try {
      return await run(job, definition);
    } finally {
      clearInterval(renew);
      await locks.eval(RELEASE_IF_OURS, 1, lockKey, holder);
    }
  }

  /**
   * (Re)creates every schedule that is missing from Redis (paused jobs stay unscheduled). Runs at
   * start and then every WORKER_SCHEDULE_CHECK_MS: a Redis flushed or replaced under a running
   * worker loses the schedules and the queued jobs with them, so when schedules had to be
   * restored (not at first start), the sweeps that rebuild work from PostgreSQL run once at once.
   */
  async function ensureSchedules(afterStart: boolean): Promise<string[]> {
    const paused = await pausedJobs(db);
    const present = new Set((await queue.getJobSchedulers()).map((scheduler) => scheduler.key));
    const restored: string[] = [];
    for (const definition of jobs.values()) {
      if (!definition.schedule) continue;
      if (paused.has(definition.name)) {
        if (present.has(definition.name)) await queue.removeJobScheduler(definition.name);
        continue;
      }
      if (afterStart && present.has(definition.name)) continue;
      await queue.upsertJobScheduler(
        definition.name,
        { pattern: definition.schedule.pattern, tz: definition.schedule.tz },
        { name: definition.name, data: { trigger: "SCHEDULE" }, opts: defaultJobOptions },
      );
      if (!present.has(definition.name)) restored.push(definition.name);
    }
    if (afterStart && restored.length > 0) {
      logger.warn({ restored }, "schedules were missing from Redis; restored them and running the sweeps");
      for (const definition of jobs.values())
        if (definition.runOnRestore && restored.includes(definition.name))
          await queue.add(definition.name, { trigger: "SCHEDULE" });
    }
    return restored;
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
        {
          db,
          env,
          events: events.bus,
          logger: logger.child({ job: job.name, jobRunId }),
          jobRunId,
          redis: locks,
          payments,
          mail,
          copyIn,
          queue,
        },
        payload.data,
      );
      await finishJobRun(db, events.bus, jobRunId, { ok: true, outcome });
      await recordJobSucceeded(db, job.name, { events: events.bus });
      endTimer();
      metrics.jobRuns.inc({ job: job.name, outcome: "succeeded" });
      return outcome.summary;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      await finishJobRun(db, events.bus, jobRunId, { ok: false, error: message });
      const attempts = job.opts.attempts ?? 1;
      const exhausted = error instanceof UnrecoverableError || attempt >= attempts;
      if (exhausted) await recordJobExhausted(db, job.name, attempt, message, { events: events.bus });
      endTimer();
      metrics.jobRuns.inc({ job: job.name, outcome: exhausted ? "exhausted" : "failed" });
      throw error;
    }
  }

  return {
    queue,
    async start() {
      // Paused jobs stay unscheduled across restarts; everything else is (re)upserted, so a
      // deploy restores the schedule; the periodic check does the same for a Redis flush.
      await ensureSchedules(false);
      let checking = false;
      scheduleCheck = setInterval(() => {
        // One check at a time: while Redis is down a check waits, and later ones must not pile up.
        if (checking) return;
        checking = true;
        ensureSchedules(true)
          .catch((error: unknown) =>
            logger.warn({ err: error instanceof Error ? error.message : error }, "schedule check failed"),
          )
          .finally(() => {
            checking = false;
          });
      }, env.WORKER_SCHEDULE_CHECK_MS);
      worker = new Worker<JobData>(JOBS_QUEUE, process, {
        connection,
        prefix: env.REDIS_PREFIX,
        concurrency: env.WORKER_CONCURRENCY,
        lockDuration: env.WORKER_LOCK_MS,
        stalledInterval: env.WORKER_LOCK_MS,
        maxStalledCount: MAX_STALLED_COUNT,
      });
      worker.on("error", (error) => logger.error({ err: error }, "worker error"));
      worker.on("failed", (job, error) => logger.warn({ job: job?.name, err: error.message }, "job attempt failed"));
      await worker.waitUntilReady();
      stopPushingMetrics = metrics.startPushing(locks, env.REDIS_PREFIX, `${hostname()}:${pid}:${randomUUID()}`);
      stopQueryLatency = publishQueryLatency(locks, env.REDIS_PREFIX, "worker", queryLatency);
      logger.info({ jobs: [...jobs.keys()] }, "worker started");
    },
    async stop() {
      clearInterval(scheduleCheck);
      await worker?.close();
      await stopPushingMetrics?.();
      await stopQueryLatency?.();
      await queue.close();
      locks.disconnect();
      mail.close();
      await events.close();
      await db.$disconnect();
    },
  };
}
