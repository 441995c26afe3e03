// Finishes refunds left PROCESSING: Stripe was unreachable when the operator approved, or a
// process died between the Stripe call and the database write. Re-calling Stripe with the
// request's idempotency key replays the same refund, so this never refunds twice.
// With a refundRequestId (queued by approveRefund when Stripe failed) it retries that one and
// fails the attempt while Stripe is still down, so BullMQ backs off and tries again; on its
// schedule it sweeps every request stuck in PROCESSING for more than two minutes.
import { systemActor } from "@steward/core/actor";
import { completeRefund, recoverProcessingRefunds } from "@steward/core/refunds";
import { stripeClientFor } from "@steward/core/stripe";
import { refundRecovery } from "@steward/jobs/contracts";
import { handle } from "./definition.ts";

export const refundRecoveryJob = handle(refundRecovery, async ({ db, env, events }, { refundRequestId }) => {
  const deps = { db, events, stripe: stripeClientFor(env), timeZone: env.MARKETPLACE_TIME_ZONE };
  if (refundRequestId) {
    const result = await completeRefund(deps, systemActor("refund-recovery"), refundRequestId);
    if (result.outcome === "RETRY_LATER")
      throw new Error(
        `Stripe still unavailable for refund request ${refundRequestId}: ${result.request.failureMessage ?? ""}`,
      );
    return {
      summary: `refund request ${refundRequestId}: ${result.outcome.toLowerCase().replace("_", " ")}`,
      changes: { refundRequestId, outcome: result.outcome, status: result.request.status },
    };
  }
  const counts = await recoverProcessingRefunds(deps, { olderThanMs: 2 * 60_000 });
  const total = counts.COMPLETED + counts.FAILED + counts.RETRY_LATER + counts.ALREADY_DONE;
  return {
    summary:
      total === 0
        ? "no refund left processing"
        : `completed ${counts.COMPLETED}, failed ${counts.FAILED}, still waiting for Stripe ${counts.RETRY_LATER}`,
    changes: counts,
  };
});
