// The JobQueue port: how core, the API and the sweeps hand work to the worker, typed by the job's
// contract. Core calls it after its transaction commits (core/src/unitOfWork.ts); the BullMQ
// implementation is in ./bullmq.ts.
import type { JobName, JobPayload } from "./contracts.ts";

/**
 * Why a run happened, as recorded on its JobRun: its schedule, an operator's run-now, something
 * that happened in the system (a webhook, a review submitted, a refund decided), or BullMQ's retry.
 */
export type JobTrigger = "SCHEDULE" | "MANUAL" | "EVENT" | "RETRY";

/** The data of every queued job. */
export interface JobData {
  trigger: Exclude<JobTrigger, "RETRY">;
  triggeredById?: string;
  payload?: unknown;
}

export interface EnqueueOptions {
  /** EVENT unless said otherwise. */
  trigger?: Exclude<JobTrigger, "RETRY">;
  /** The operator who asked (run-now). */
  triggeredById?: string;
  delayMs?: number;
  /**
   * A job that finished (completed, or failed for good) keeps its id for days, and adding under it
   * again would be ignored: remove it first. One still waiting, delayed or active is left as it is.
   */
  replaceFinished?: boolean;
}

export interface JobQueue {
  /** Queues one run under the contract's job id; returns the queue job id. */
  enqueue<Name extends JobName>(name: Name, payload: JobPayload<Name>, options?: EnqueueOptions): Promise<string>;
  /** Queues one run per payload (one round trip). */
  enqueueMany<Name extends JobName>(
    name: Name,
    payloads: readonly JobPayload<Name>[],
    options?: EnqueueOptions,
  ): Promise<void>;
  /** Whether the job under this id is being worked on now (a worker holds it). */
  isActive(name: JobName, jobId: string): Promise<boolean>;
}

/**
 * An operator's control of the catalog's jobs (the Jobs page): a run now of any job that needs no
 * input, and a job's schedule taken off (paused) or put back as its contract says (resumed).
 */
export interface JobControl {
  /** Queues a MANUAL run; returns the queue job id. */
  runNow(name: string, triggeredById?: string): Promise<string>;
  removeSchedule(name: string): Promise<void>;
  restoreSchedule(name: string): Promise<void>;
}
