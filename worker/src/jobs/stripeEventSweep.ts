// Every minute, and at once when the worker finds Redis emptied: stored Stripe events not yet
// processed whose stripe-event job Redis lost (a flush, or a crash between the webhook's insert and
// its enqueue) are queued again under the webhook's own job id, so a job still queued is not doubled.
import { STRIPE_EVENT_SWEEP_GRACE_MS, sweepPendingStripeEvents } from "@steward/core/payments";
import { z } from "zod";
import { defaultJobOptions, releasedStripeEventJobFor, stripeEventJobFor } from "../queue.ts";
import { defineJob } from "./definition.ts";

export const stripeEventSweepJob = defineJob({
  name: "stripe-event-sweep",
  description: "Re-queues received Stripe events whose job Redis lost (same job id: never doubled).",
  schedule: { pattern: "*/1 * * * *", tz: "UTC" },
  runOnRestore: true,
  payload: z.object({}).passthrough(),
  async handler({ db, queue }) {
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
        await queue.addBulk(
          ids.map((id) => (released.has(id) ? releasedStripeEventJobFor(id) : stripeEventJobFor(id))),
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
  },
});
