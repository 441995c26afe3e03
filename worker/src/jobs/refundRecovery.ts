// Every five minutes, and at once when the worker finds Redis emptied: requests still PROCESSING
// two minutes after their approval (the queue lost their refund-execute job, or the job gave up
// while Stripe was down) are handed back to refund-execute under the same job id. It executes
// nothing itself: refund-execute is the only job that talks to Stripe about a refund.
import { recoverClaimedRefunds } from "@steward/core/refunds";
import { refundRecovery } from "@steward/jobs/contracts";
import { handle } from "./definition.ts";

export const refundRecoveryJob = handle(refundRecovery, async ({ deps }) => {
  const swept = await recoverClaimedRefunds(deps);
  return {
    summary: swept === 0 ? "no refund left processing" : `${swept} processing refund(s) handed to refund-execute`,
    changes: { swept },
  };
});
