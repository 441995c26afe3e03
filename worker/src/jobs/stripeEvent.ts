// Processes one stored Stripe webhook event (queued by POST /webhooks/stripe with the job id
// `stripe-event-<eventId>`): re-fetches the object from Stripe and syncs payment and placement.
// Failures are retried with backoff by BullMQ and counted on the event (attempts, lastError).
import { StripeEventUnprocessableError, processStripeEvent } from "@steward/core/payments";
import { NotFoundError } from "@steward/core/errors";
import { metricsSettings, rollupMetrics } from "@steward/core/metrics";
import { stripeClientFor } from "@steward/core/stripe";
import { UnrecoverableError } from "bullmq";
import { stripeEvent } from "@steward/jobs/contracts";
import { handle } from "./definition.ts";

export const stripeEventJob = handle(stripeEvent, async ({ db, env, events, logger }, { eventId }) => {
  try {
    const outcome = await processStripeEvent(db, stripeClientFor(env), eventId);
    // A payment arrived or changed: the overview shows it now rather than at the next minute.
    await rollupMetrics({ db, events, settings: metricsSettings(env) }).catch((error: unknown) =>
      logger.warn({ err: error }, "metrics rollup after a Stripe event failed; the minute job will catch up"),
    );
    return outcome;
  } catch (error) {
    if (error instanceof StripeEventUnprocessableError || error instanceof NotFoundError)
      throw new UnrecoverableError(error.message);
    throw error;
  }
});
