// Every minute, and at once when the worker finds Redis emptied: stored Stripe events not yet
// processed whose stripe-event job Redis lost (a flush, or a crash between the webhook's insert and
// its enqueue) are queued again under the webhook's own job id, so a job still queued is not doubled.
import { requeuePendingStripeEvents } from "@steward/core/payments";
import { defaultJobOptions } from "@steward/jobs/bullmq";
import { stripeEventSweep } from "@steward/jobs/contracts";
import { handle } from "./definition.ts";

export const stripeEventSweepJob = handle(stripeEventSweep, async ({ deps }) => {
  const swept = await requeuePendingStripeEvents(deps, defaultJobOptions.attempts ?? 1);
  return {
    summary: swept === 0 ? "no event left unprocessed" : `${swept} unprocessed event(s) handed to the queue`,
    changes: { swept },
  };
});
