// Every minute, and at once when the worker finds Redis emptied: stored Stripe events not yet
// processed whose stripe-event job Redis lost (a flush, or a crash between the webhook's insert and
// its enqueue) are queued again under the webhook's own job id, so a job still queued is not doubled.
import { STRIPE_EVENT_SWEEP_GRACE_MS, sweepPendingStripeEvents } from "@steward/core/payments";
import { defaultJobOptions } from "@steward/jobs/bullmq";
import { stripeEventSweep } from "@steward/jobs/contracts";
import { handle } from "./definition.ts";

export const stripeEventSweepJob = handle(stripeEventSweep, async ({ db, jobs }) => {
  const swept = await sweepPendingStripeEvents(
    db,
    async (ids) => {
      // Events once held for their business run under the id their release used.
      const released = new Set(
        (
          await db.stripeWebhookEvent.findMany({
            where: { id: { in: [...ids] }, heldReason: { not: null } },
            select: { id: true },
          })
        ).map((event) => event.id),
      );
      await jobs.enqueueMany(
        "stripe-event",
        ids.map((eventId) => ({ eventId, released: released.has(eventId) })),
      );
    },
    {
      olderThanMs: STRIPE_EVENT_SWEEP_GRACE_MS,
      maxAttempts: defaultJobOptions.attempts ?? 1,
    },
  );
  return {
    summary: swept === 0 ? "no event left unprocessed" : `${swept} unprocessed event(s) handed to the queue`,
    changes: { swept },
  };
});
