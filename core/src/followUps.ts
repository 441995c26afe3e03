// The work a change hands to the worker once it has committed, decided here once rather than in
// each resolver: one job name, one job id scheme and one trigger (EVENT, or MANUAL for an
// operator's run) per follow-up. Best effort where a schedule or sweep picks the work up anyway.
import type { Actor } from "./actor.ts";
import type { CoreDeps } from "./deps.ts";

type FollowUpDeps = Pick<CoreDeps, "jobs" | "logger">;

function bestEffort(deps: FollowUpDeps, what: string, enqueued: Promise<unknown>): Promise<void> {
  return enqueued.then(
    () => undefined,
    (error: unknown) =>
      deps.logger.warn({ err: error instanceof Error ? error.message : error, what }, "could not queue a follow-up"),
  );
}

/**
 * Delivers what a change just put in the outbox without waiting for the minute's run. `cause`
 * names the change (`refund-denied-<id>`); one delivery run per cause.
 */
export function deliverOutboxSoon(deps: FollowUpDeps, cause: string): Promise<void> {
  return bestEffort(deps, "outbox-delivery", deps.jobs.enqueue("outbox-delivery", { cause }));
}

/**
 * Claimed refund requests go to the refund-execute job (after the approval's commit, and again from
 * the refund-recovery sweep). The job id leaves a queued or running job alone; one that finished
 * (gave up while Stripe was down) runs again.
 */
export async function executeRefunds(deps: Pick<CoreDeps, "jobs">, refundRequestIds: readonly string[]): Promise<void> {
  await deps.jobs.enqueueMany(
    "refund-execute",
    refundRequestIds.map((refundRequestId) => ({ refundRequestId })),
    { replaceFinished: true },
  );
}

/** Held Stripe events whose business just joined the catalog: processed now (the sweep otherwise). */
export function processReleasedStripeEvents(deps: FollowUpDeps, eventIds: readonly string[]): Promise<void> {
  return bestEffort(
    deps,
    "stripe-event",
    deps.jobs.enqueueMany(
      "stripe-event",
      eventIds.map((eventId) => ({ eventId, released: true })),
    ),
  );
}

/** A submitted review is scored by the worker (deterministic id: never twice at once). */
export async function scoreSubmittedReview(deps: FollowUpDeps, reviewId: string): Promise<void> {
  await deps.jobs.enqueue("score-review", { reviewId });
}

/** An operator's reconciliation run goes to the worker; throws if it cannot be queued. */
export async function queueReconciliationRun(deps: FollowUpDeps, actor: Actor, runId: string): Promise<void> {
  await deps.jobs.enqueue(
    "payment-reconciliation",
    { runId },
    { trigger: "MANUAL", ...(actor.kind === "OPERATOR" ? { triggeredById: actor.id } : {}) },
  );
}
