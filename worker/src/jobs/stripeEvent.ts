// Processes one stored Stripe webhook event (queued by POST /webhooks/stripe with the job id
// `stripe-event-<eventId>`): syncs payment and placement, and closes the refund request a refund
// answers (core/src/stripeEvents.ts), reading from Stripe only when the event says something new.
// Failures are retried with backoff by BullMQ and counted on the event (attempts, lastError).
import { StripeEventUnprocessableError } from "@steward/core/payments";
import { processStripeEvent } from "@steward/core/stripeEvents";
import { NotFoundError } from "@steward/core/errors";
import { metricsSettings, rollupMetrics } from "@steward/core/metrics";
import { UnrecoverableError } from "bullmq";
import { stripeEvent } from "@steward/jobs/contracts";
import { handle } from "./definition.ts";

export const stripeEventJob = handle(stripeEvent, async ({ db, deps, env, events, logger }, { eventId }) => {
  try {
    const outcome = await processStripeEvent({ ...deps, events }, eventId);
    // A payment arrived or changed: the overview shows it now rather than at the next minute.
    if (outcome.changed)
      await rollupMetrics({ db, events, settings: metricsSettings(env) }).catch((error: unknown) =>
        logger.warn({ err: error }, "metrics rollup after a Stripe event failed; the minute job will catch up"),
      );
    return { summary: outcome.summary, changes: outcome.changes };
  } catch (error) {
    if (error instanceof StripeEventUnprocessableError || error instanceof NotFoundError)
      throw new UnrecoverableError(error.message);
    throw error;
  }
});
