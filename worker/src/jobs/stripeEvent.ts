// Processes one stored Stripe webhook event (queued by POST /webhooks/stripe with the job id
// `stripe-event-<eventId>`): syncs payment and placement, and closes the refund request a refund
// answers (core/src/stripeEvents.ts), reading from Stripe only when the event says something new.
// Failures are retried with backoff by BullMQ and counted on the event (attempts, lastError).
import { StripeEventUnprocessableError } from "@steward/core/payments";
import { applyStripeEvent } from "@steward/core/stripeEvents";
import { NotFoundError } from "@steward/core/errors";
import { UnrecoverableError } from "bullmq";
import { stripeEvent } from "@steward/jobs/contracts";
import { handle } from "./definition.ts";

export const stripeEventJob = handle(stripeEvent, async ({ deps }, { eventId }) => {
  try {
    const outcome = await applyStripeEvent(deps, eventId);
    return { summary: outcome.summary, changes: outcome.changes };
  } catch (error) {
    if (error instanceof StripeEventUnprocessableError || error instanceof NotFoundError)
      throw new UnrecoverableError(error.message);
    throw error;
  }
});
