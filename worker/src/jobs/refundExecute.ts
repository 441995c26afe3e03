// Refunds one claimed request at Stripe (queued after commit by the approval, with the job id
// `refund-execute-<id>`, and again by the refund-recovery sweep under the same id). The stored
// idempotency key makes every attempt, in any process, replay the same refund. While Stripe is
// unreachable the attempt fails, so BullMQ retries it with backoff; the request stays PROCESSING.
import { systemActor } from "@steward/core/actor";
import { executeRefund } from "@steward/core/refunds";
import { refundExecute } from "@steward/jobs/contracts";
import { handle } from "./definition.ts";

export const refundExecuteJob = handle(refundExecute, async ({ deps }, { refundRequestId }) => {
  // On completion core queues the business's email for delivery (after its commit).
  const result = await executeRefund(deps, systemActor("refund-execute"), refundRequestId);
  if (result.outcome === "RETRY_LATER")
    throw new Error(`Stripe unavailable for refund request ${refundRequestId}: ${result.request.failureMessage ?? ""}`);
  return {
    summary: `refund request ${refundRequestId}: ${result.outcome.toLowerCase().replace("_", " ")}`,
    changes: { refundRequestId, outcome: result.outcome, status: result.request.status },
  };
});
