// The work a change hands to the worker once it has committed, decided here once rather than in
// each caller: one job name, one job id scheme and one trigger (EVENT, or MANUAL for an operator's
// run) per follow-up. Core functions call these with their unit of work's effects
// (./unitOfWork.ts), so the job is queued only after the change commits, and best effort: a job
// that cannot be queued is logged, and a schedule or sweep picks the work up.
import type { Actor } from "./actor.ts";
import type { CoreDeps } from "./deps.ts";
import type { AfterCommit } from "./unitOfWork.ts";

/**
 * Delivers what a change just put in the outbox without waiting for the minute's run. `cause`
 * names the change (`refund-denied-<id>`); one delivery run per cause.
 */
export function deliverOutboxSoon(effects: AfterCommit, cause: string): void {
  effects.enqueue("outbox-delivery", { cause });
}

/**
 * A claimed refund request goes to the refund-execute job (after the approval's commit). The job
 * id leaves a queued or running job alone; one that finished (gave up while Stripe was down) runs
 * again.
 */
export function executeRefundSoon(effects: AfterCommit, refundRequestId: string): void {
  effects.enqueue("refund-execute", { refundRequestId }, { replaceFinished: true });
}

/**
 * The refund-recovery sweep hands claimed requests back to refund-execute, as the approval did
 * (same job id, same options). Throws if the queue cannot be reached: the sweep runs again.
 */
export async function executeRefunds(deps: Pick<CoreDeps, "jobs">, refundRequestIds: readonly string[]): Promise<void> {
  await deps.jobs.enqueueMany(
    "refund-execute",
    refundRequestIds.map((refundRequestId) => ({ refundRequestId })),
    { replaceFinished: true },
  );
}

/**
 * A webhook delivery just stored goes to stripe-event under the webhook's job id. Not deferred:
 * throws if it cannot be queued (the endpoint answers 500 and Stripe delivers it again).
 */
export async function processStripeEventNow(deps: Pick<CoreDeps, "jobs">, eventId: string): Promise<void> {
  await deps.jobs.enqueue("stripe-event", { eventId });
}

/** Held Stripe events whose business just joined the catalog: processed now (the sweep otherwise). */
export function processReleasedStripeEvents(effects: AfterCommit, eventIds: readonly string[]): void {
  effects.enqueueMany(
    "stripe-event",
    eventIds.map((eventId) => ({ eventId, released: true })),
  );
}

/**
 * A submitted review is scored by the worker (deterministic id: never twice at once); if it cannot
 * be queued, the review-scoring sweep finds the review unscored.
 */
export function scoreSubmittedReview(effects: AfterCommit, reviewId: string): void {
  effects.enqueue("score-review", { reviewId });
}

/**
 * An operator's reconciliation run goes to the worker. Not deferred: throws if it cannot be queued
 * (the run, already committed, is then marked FAILED by its caller).
 */
export async function queueReconciliationRun(deps: Pick<CoreDeps, "jobs">, actor: Actor, runId: string): Promise<void> {
  await deps.jobs.enqueue(
    "payment-reconciliation",
    { runId },
    { trigger: "MANUAL", ...(actor.kind === "OPERATOR" ? { triggeredById: actor.id } : {}) },
  );
}

// ── The sweeps: work PostgreSQL still holds as pending, handed back to the queue under the job id
// its first enqueue used (so a job still queued is not doubled). Not after a commit: they throw if
// the queue cannot be reached, and the sweep runs again. ──

/** Pending reviews never scored go back to score-review under submitReview's own job id. */
export async function scoreReviews(deps: Pick<CoreDeps, "jobs">, reviewIds: readonly string[]): Promise<void> {
  await deps.jobs.enqueueMany(
    "score-review",
    reviewIds.map((reviewId) => ({ reviewId })),
  );
}

/** Stored Stripe events not yet processed go back to stripe-event (a released one under its release's id). */
export async function processStripeEvents(
  deps: Pick<CoreDeps, "jobs">,
  events: readonly { eventId: string; released: boolean }[],
): Promise<void> {
  await deps.jobs.enqueueMany("stripe-event", events);
}

/**
 * Reconciliation runs left without their job are resumed by payment-reconciliation. A job BullMQ
 * gave up on (stalled too often) or finished keeps its id: replaced.
 */
export async function resumeReconciliationRuns(deps: Pick<CoreDeps, "jobs">, runIds: readonly string[]): Promise<void> {
  for (const runId of runIds) await deps.jobs.enqueue("payment-reconciliation", { runId }, { replaceFinished: true });
}
