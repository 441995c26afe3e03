// The worker process: upserts every scheduled job (so a Redis flush or a deploy restores the
// schedule), then runs one BullMQ Worker per workload queue it serves, each with its own
// concurrency, recording each attempt in PostgreSQL. Jobs that must not overlap are on queues
// capped at one active job across every worker (BullMQ's global concurrency).
import { createMailSender } from "@steward/core/adapters/nodemailer";
import { pgCopyIn } from "@steward/core/adapters/pgCopy";
import { createStripeGateway } from "@steward/core/adapters/stripe";
import { createCoreDeps } from "@steward/core/deps";
import type { Env } from "@steward/core/env";
import { createEventBus } from "@steward/core/adapters/redisEvents";
import { pausedJobs } from "@steward/core/jobControl";
import { recordJobExhausted, recordJobSucceeded } from "@steward/core/jobHealth";
import { finishJobRun, startJobRun } from "@steward/core/jobRuns";
import { publishQueryLatency, QueryLatencyWindow } from "@steward/core/queryLatency";
import type { Logger } from "@steward/core/logger";
import { createDatabase } from "@steward/db/client";
import {
  type BullJobQueues,
  bullJobControl,
  connectionFor,
  createBullJobQueues,
  queueNameFor,
} from "@steward/jobs/bullmq";
import { ONE_AT_A_TIME, resolveContract, type ResolvedContract, type Workload } from "@steward/jobs/contract";
import type { JobData } from "@steward/jobs/queue";
import { type Job, UnrecoverableError, Worker } from "bullmq";
import { Redis } from "ioredis";
import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import { pid } from "node:process";
import type { JobBinding } from "./jobs/definition.ts";
import { createWorkerMetrics } from "./metrics.ts";
import { validateBindings, validateSchedules } from "./registry.ts";

// Handlers are idempotent, so a job whose worker was killed is simply run again; BullMQ's default
// (1) would fail it for good the second time its worker dies under it.
const MAX_STALLED_COUNT = 5;

export interface StewardWorker {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Every workload's queue (enqueue, run-now, schedules). */
  queues: BullJobQueues;
}

/** How many jobs of a workload one worker process runs at once. */
export function concurrencyFor(env: Env, workload: Workload): number {
  switch (workload) {
    case "payments":
      return env.WORKER_PAYMENTS_CONCURRENCY ?? env.WORKER_CONCURRENCY;
    case "scoring":
      return env.WORKER_SCORING_CONCURRENCY ?? env.WORKER_CONCURRENCY;
    case "maintenance":
      return env.WORKER_MAINTENANCE_CONCURRENCY ?? env.WORKER_CONCURRENCY;
    // One at a time across all workers anyway (ONE_AT_A_TIME).
    case "outbox":
    case "reconciliation":
    case "nightly":
      return 1;
  }
}

export function buildWorker(env: Env, logger: Logger, bindings: readonly JobBinding[]): StewardWorker {
  const handlers = validateBindings(bindings);
  const contracts: ResolvedContract[] = bindings.map((binding) => resolveContract(binding.contract, env));
  validateSchedules(contracts);
  const served = new Set<Workload>(env.WORKER_QUEUES);
  const workloads = [...new Set(contracts.map((contract) => contract.queue))].filter((workload) =>
    served.has(workload),
  );
  const connection = connectionFor(env.REDIS_URL);
  const poolSize = workloads.reduce((sum, workload) => sum + concurrencyFor(env, workload), 0) + 2;
  // Every query is timed into this process's window: the database p95 health signal.
  const queryLatency = new QueryLatencyWindow();
  const { db, sql } = createDatabase(env.DATABASE_URL, poolSize, { onQuery: queryLatency.record });
  const events = createEventBus(env.REDIS_URL, env.REDIS_PREFIX);
  // The vendor adapters, once per process: every job reaches Stripe and SMTP through these.
  const payments = createStripeGateway(env);
  const mail = createMailSender(env);
  const copyIn = pgCopyIn(env.DATABASE_URL);
  const queues = createBullJobQueues({
    redisUrl: env.REDIS_URL,
    prefix: env.REDIS_PREFIX,
    extraRoutes: contracts,
    onError: (error) => logger.error({ err: error }, "queue error"),
  });
  const deps = createCoreDeps({
    db,
    sql,
    events: events.bus,
    jobs: queues,
    jobControl: bullJobControl(queues, contracts),
    payments,
    mail,
    copyIn,
    env,
    logger,
  });
  const workers: Worker<JobData>[] = [];
  let scheduleCheck: NodeJS.Timeout | undefined;
  const redis = new Redis(env.REDIS_URL, { maxRetriesPerRequest: null });
  redis.on("error", (error) => logger.error({ err: error }, "redis connection error"));
  const metrics = createWorkerMetrics();
  let stopPushingMetrics: (() => Promise<void>) | undefined;
  let stopQueryLatency: (() => Promise<void>) | undefined;

  async function process(job: Job<JobData>): Promise<string> {
    const binding = handlers.get(job.name);
    if (!binding) throw new UnrecoverableError(`No handler for job '${job.name}'`);
    return run(job, binding);
  }

  /**
   * (Re)creates every schedule that is missing from Redis (paused jobs stay unscheduled). Runs at
   * start and then every WORKER_SCHEDULE_CHECK_MS: a Redis flushed or replaced under a running
   * worker loses the schedules and the queued jobs with them, so when schedules had to be
   * restored (not at first start), the sweeps that rebuild work from PostgreSQL run once at once.
   */
  async function ensureSchedules(afterStart: boolean): Promise<string[]> {
    const paused = await pausedJobs(db);
    const present = new Set(await queues.scheduleNames());
    const restored: string[] = [];
    for (const contract of contracts) {
      if (!contract.schedule) continue;
      if (paused.has(contract.name)) {
        if (present.has(contract.name)) await queues.removeSchedule(contract.name);
        continue;
      }
      if (afterStart && present.has(contract.name)) continue;
      await queues.upsertSchedule(contract);
      if (!present.has(contract.name)) restored.push(contract.name);
    }
    if (afterStart && restored.length > 0) {
      logger.warn({ restored }, "schedules were missing from Redis; restored them and running the sweeps");
      for (const contract of contracts)
        if (contract.runOnRestore && restored.includes(contract.name))
          await queues.add(contract.name, { trigger: "SCHEDULE" });
    }
    return restored;
  }

  async function run(job: Job<JobData>, binding: JobBinding): Promise<string> {
    const attempt = job.attemptsMade + 1;
    const jobRunId = await startJobRun(deps, {
      jobName: job.name,
      queueJobId: job.id ?? `${job.name}:unknown`,
      trigger: attempt > 1 ? "RETRY" : (job.data.trigger ?? "SCHEDULE"),
      triggeredById: job.data.triggeredById ?? null,
      attempt,
    });
    const endTimer = metrics.jobDuration.startTimer({ job: job.name });
    try {
      const payload = binding.contract.payload.safeParse(job.data.payload ?? {});
      if (!payload.success) throw new UnrecoverableError(`Invalid payload: ${payload.error.message}`);
      const outcome = await binding.handler(
        { deps: { ...deps, logger: logger.child({ job: job.name, jobRunId }) }, jobRunId, redis },
        payload.data,
      );
      await finishJobRun(deps, { jobRunId, result: { ok: true, outcome } });
      await recordJobSucceeded(deps, job.name);
      endTimer();
      metrics.jobRuns.inc({ job: job.name, outcome: "succeeded" });
      return outcome.summary;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      await finishJobRun(deps, { jobRunId, result: { ok: false, error: message } });
      const attempts = job.opts.attempts ?? 1;
      const exhausted = error instanceof UnrecoverableError || attempt >= attempts;
      if (exhausted) await recordJobExhausted(deps, job.name, attempt, message);
      endTimer();
      metrics.jobRuns.inc({ job: job.name, outcome: exhausted ? "exhausted" : "failed" });
      throw error;
    }
  }

  return {
    queues,
    async start() {
      // The workloads whose jobs must not overlap: at most one active job across every worker.
      for (const workload of workloads)
        if (ONE_AT_A_TIME.has(workload)) await queues.queue(workload).setGlobalConcurrency(1);
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
      for (const workload of workloads) {
        const worker = new Worker<JobData>(queueNameFor(workload), process, {
          connection,
          prefix: env.REDIS_PREFIX,
          concurrency: concurrencyFor(env, workload),
          lockDuration: env.WORKER_LOCK_MS,
          stalledInterval: env.WORKER_LOCK_MS,
          maxStalledCount: MAX_STALLED_COUNT,
        });
        worker.on("error", (error) => logger.error({ err: error, workload }, "worker error"));
        worker.on("failed", (job, error) => logger.warn({ job: job?.name, err: error.message }, "job attempt failed"));
        workers.push(worker);
      }
      await Promise.all(workers.map((worker) => worker.waitUntilReady()));
      stopPushingMetrics = metrics.startPushing(redis, env.REDIS_PREFIX, `${hostname()}:${pid}:${randomUUID()}`);
      stopQueryLatency = publishQueryLatency(redis, env.REDIS_PREFIX, "worker", queryLatency);
      logger.info({ workloads, jobs: [...handlers.keys()] }, "worker started");
    },
    async stop() {
      clearInterval(scheduleCheck);
      await Promise.all(workers.map((worker) => worker.close()));
      await stopPushingMetrics?.();
      await stopQueryLatency?.();
      await queues.close();
      redis.disconnect();
      mail.close();
      await events.close();
      await db.$disconnect();
    },
  };
}
