// Every five minutes, and at once when the worker finds Redis emptied: requests still PROCESSING
// two minutes after their approval (the queue lost their refund-execute job, or the job gave up
// while Stripe was down) are handed back to refund-execute under the same job id. It executes
// nothing itself: refund-execute is the only job that talks to Stripe about a refund.
import { CLAIMED_REFUND_GRACE_MS, sweepClaimedRefunds } from "@steward/core/refunds";
import { z } from "zod";
import { enqueueRefundExecutions } from "../queue.ts";
import { defineJob } from "./definition.ts";

export const refundRecoveryJob = defineJob({
  name: "refund-recovery",
  description: "Re-queues refund-execute for approved refunds still processing (same job id: never doubled).",
  schedule: { pattern: "*/5 * * * *", tz: "UTC" },
  runOnRestore: true,
  payload: z.object({}).passthrough(),
  async handler({ db, queue }) {
    const swept = await sweepClaimedRefunds(db, (ids) => enqueueRefundExecutions(queue, ids), {
      olderThanMs: CLAIMED_REFUND_GRACE_MS,
    });
    return {
      summary: swept === 0 ? "no refund left processing" : `${swept} processing refund(s) handed to refund-execute`,
      changes: { swept },
    };
  },
});
