// Refunds one claimed request at Stripe (queued after commit by the approval, with the job id
// `refund-execute-<id>`, and again by the refund-recovery sweep under the same id). The stored
// idempotency key makes every attempt, in any process, replay the same refund. While Stripe is
// unreachable the attempt fails, so BullMQ retries it with backoff; the request stays PROCESSING.
import { systemActor } from "@steward/core/actor";
import { executeRefund } from "@steward/core/refunds";
import { z } from "zod";
import { kickOutbox } from "../queue.ts";
import { defineJob } from "./definition.ts";

export const refundExecuteJob = defineJob({
  name: "refund-execute",
  description: "Refunds an approved request at Stripe, exactly once (its idempotency key), and records the result.",
  payload: z.object({ refundRequestId: z.string().uuid() }),
  async handler({ db, env, events, payments, queue }, { refundRequestId }) {
    const deps = { db, events, stripe: payments, timeZone: env.MARKETPLACE_TIME_ZONE };
    const result = await executeRefund(deps, systemActor("refund-execute"), refundRequestId);
    if (result.outcome === "RETRY_LATER")
      throw new Error(
        `Stripe unavailable for refund request ${refundRequestId}: ${result.request.failureMessage ?? ""}`,
      );
    if (result.outcome === "COMPLETED") await kickOutbox(queue, `refund-approved-${refundRequestId}`);
    return {
      summary: `refund request ${refundRequestId}: ${result.outcome.toLowerCase().replace("_", " ")}`,
      changes: { refundRequestId, outcome: result.outcome, status: result.request.status },
    };
  },
});
