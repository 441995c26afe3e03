// What a job promises, apart from the code that does it: its name, payload, schedule, the queue it
// runs on and the id it is queued under. The API and core enqueue by contract; the worker binds one
// handler to each (worker/src/registry.ts). No handler code and no process.env here.
import type { z } from "zod";

/**
 * The queues, one per workload, each with its own BullMQ worker and concurrency, so webhook
 * processing never waits behind a long reconciliation or a backup, nor the heartbeat (which the
 * watchdog reads) behind a nightly backup.
 */
export const WORKLOADS = ["payments", "scoring", "outbox", "reconciliation", "maintenance", "nightly"] as const;
export type Workload = (typeof WORKLOADS)[number];

/**
 * The workloads whose jobs run one at a time across every worker process (BullMQ's global
 * concurrency): a run-now that arrives during a run waits for it. Reconciliation and the nightly
 * jobs are long and must not overlap; outbox runs must not either, as a second run would take over
 * messages whose lease ran out while the first is still sending them (sent twice). The other
 * workloads' handlers are safe side by side (row locks, idempotency keys, deterministic job ids).
 */
export const ONE_AT_A_TIME: ReadonlySet<Workload> = new Set<Workload>(["outbox", "reconciliation", "nightly"]);

/** The validated settings schedules are built from (a subset of core's Env). */
export interface ScheduleSettings {
  MARKETPLACE_TIME_ZONE: string;
  HEARTBEAT_CRON: string;
  HEALTH_CHECKS_CRON: string;
  RETENTION_CRON: string;
  BACKUP_CRON: string;
  BACKUP_VERIFY_CRON: string;
}

export interface JobSchedule {
  /** Cron pattern. */
  pattern: string;
  tz: string;
  /** How often it must succeed: missed-run detection alerts when it is late (job-health). */
  everyMinutes?: number;
}

export interface JobContract<Name extends string = string, Payload extends z.ZodType = z.ZodType> {
  name: Name;
  description: string;
  queue: Workload;
  payload: Payload;
  /** Omitted for jobs that only run on demand or on an event. */
  schedule?: (settings: ScheduleSettings) => JobSchedule;
  /**
   * A sweep that turns PostgreSQL's pending rows back into work: run once at once when the worker
   * finds its schedules gone from Redis (flushed or replaced), since queued jobs went with them.
   */
  runOnRestore?: boolean;
  /**
   * The deterministic queue job id of per-row work: whoever enqueues (core right after its commit,
   * or a sweep rebuilding from PostgreSQL) uses the same id, so a job still in Redis is never
   * doubled. Undefined: BullMQ numbers the job.
   */
  jobId?(payload: z.output<Payload>): string | undefined;
}

/** A contract with its schedule resolved from the validated settings. */
export interface ResolvedContract extends Omit<JobContract, "schedule"> {
  schedule?: JobSchedule;
}

export function defineContract<const Name extends string, Payload extends z.ZodType>(
  contract: JobContract<Name, Payload>,
): JobContract<Name, Payload> {
  return contract;
}

export function resolveContract(contract: JobContract, settings: ScheduleSettings): ResolvedContract {
  const { schedule, ...rest } = contract;
  return schedule ? { ...rest, schedule: schedule(settings) } : rest;
}
