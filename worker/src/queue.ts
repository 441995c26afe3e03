// Queue names and connection options shared by the worker and by whoever enqueues (the API's
// run-now). Keys live under the stack's prefix so stacks can share one Redis.
import { reconciliationJobId } from "@steward/core/reconciliation/runs";
import type { ConnectionOptions, DefaultJobOptions, Queue } from "bullmq";

export const JOBS_QUEUE = "jobs";

export function connectionFor(redisUrl: string): ConnectionOptions {
  const url = new URL(redisUrl);
  return {
    host: url.hostname,
    port: Number(url.port || 6379),
    db: Number(url.pathname.replace("/", "") || 0),
    ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
    // BullMQ's workers must wait for Redis rather than fail a command during a reconnect.
    maxRetriesPerRequest: null,
  };
}

export const defaultJobOptions: DefaultJobOptions = {
  attempts: 5,
  backoff: { type: "exponential", delay: 2_000 },
  removeOnComplete: { age: 7 * 24 * 3600, count: 1000 },
  removeOnFail: { age: 30 * 24 * 3600 },
};

export interface JobData {
  trigger: "SCHEDULE" | "MANUAL";
  triggeredById?: string;
  payload?: unknown;
}

/** A job as Queue.add/addBulk take it. */
export interface QueuedJob {
  name: string;
  data: JobData;
  opts: { jobId: string };
}

// The deterministic job ids of per-row work: whoever enqueues (the API right after its insert, or
// a sweep rebuilding from PostgreSQL) uses the same id, so a job still in Redis is never doubled.
export function stripeEventJobFor(eventId: string): QueuedJob {
  return {
    name: "stripe-event",
    data: { trigger: "SCHEDULE", payload: { eventId } },
    opts: { jobId: `stripe-event-${eventId}` },
  };
}

/**
 * A HELD event whose business has just joined the catalog. Its first job completed (holding it)
 * and Redis keeps completed ids for days, so this run needs an id of its own; one is enough, as a
 * business never leaves the catalog once in it (archiving keeps it).
 */
export function releasedStripeEventJobFor(eventId: string): QueuedJob {
  return {
    name: "stripe-event",
    data: { trigger: "SCHEDULE", payload: { eventId } },
    opts: { jobId: `stripe-event-${eventId}-released` },
  };
}

/** The one job that refunds a claimed request at Stripe (enqueued after approval, and by the sweep). */
export function refundExecuteJobFor(refundRequestId: string): QueuedJob {
  return {
    name: "refund-execute",
    data: { trigger: "SCHEDULE", payload: { refundRequestId } },
    opts: { jobId: `refund-execute-${refundRequestId}` },
  };
}

/**
 * Enqueues refund-execute for claimed requests. The deterministic id leaves a queued or running
 * job alone; one that gave up while Stripe was down (failed, its attempts spent) runs again.
 */
export async function enqueueRefundExecutions(
  queue: Queue<JobData>,
  refundRequestIds: readonly string[],
): Promise<void> {
  const jobs = refundRequestIds.map(refundExecuteJobFor);
  for (const job of jobs) {
    const existing = await queue.getJob(job.opts.jobId);
    if ((await existing?.getState()) === "failed") await existing?.remove();
  }
  await queue.addBulk(jobs);
}

/** Delivers an email just queued by a job's transaction now, not at the outbox's next minute (best effort). */
export async function kickOutbox(queue: Queue<JobData>, dedupKey: string): Promise<void> {
  await queue
    .add("outbox-delivery", { trigger: "SCHEDULE" }, { jobId: `outbox-delivery-${dedupKey}` })
    .catch(() => undefined);
}

export function scoreReviewJobFor(reviewId: string): QueuedJob {
  return {
    name: "score-review",
    data: { trigger: "SCHEDULE", payload: { reviewId } },
    opts: { jobId: `score-review-${reviewId}` },
  };
}

export function reconciliationJobFor(runId: string): QueuedJob {
  return {
    name: "payment-reconciliation",
    data: { trigger: "SCHEDULE", payload: { runId } },
    opts: { jobId: reconciliationJobId(runId) },
  };
}

/** Whether the job with this id is being worked on now (a worker holds it), as BullMQ sees it. */
export async function isJobActive(queue: Queue, jobId: string): Promise<boolean> {
  const job = await queue.getJob(jobId);
  return (await job?.getState()) === "active";
}
