// Stripe webhooks: events that failed to process in the window, and deliveries refused for a bad
// signature (stripe.webhook_failures, stripe.webhook_signatures).
import { webhookFailuresRule, webhookSignaturesRule } from "../../alertRules.ts";
import { deliveriesSince } from "../../webhookDeliveries.ts";
import { type HealthCheck, MINUTE } from "../check.ts";

export const webhooksCheck: HealthCheck = {
  name: "webhooks",
  async measure({ db, redis, env, now, thresholds }) {
    const webhookThresholds = thresholds(webhookFailuresRule);
    const signatureThresholds = thresholds(webhookSignaturesRule);
    const [failedWebhooks, deliveries] = await Promise.all([
      db.stripeWebhookEvent.count({
        where: {
          status: "FAILED",
          receivedAt: { gte: new Date(now.getTime() - webhookThresholds.windowMinutes * MINUTE) },
        },
      }),
      deliveriesSince(redis, env.REDIS_PREFIX, signatureThresholds.windowMinutes, now.getTime()).catch(() => null),
    ]);
    return {
      snapshot: {
        webhooks: {
          failedInWindow: failedWebhooks,
          deliveries: deliveries && {
            badSignatures: deliveries.bad_signature,
            accepted: deliveries.accepted,
            rejected: deliveries.rejected,
            windowMinutes: signatureThresholds.windowMinutes,
          },
        },
      },
      result: {
        ok: true,
        latencyMs: null,
        value: failedWebhooks,
        detail:
          `${failedWebhooks} failed in the last ${webhookThresholds.windowMinutes} min` +
          (deliveries
            ? `; ${deliveries.accepted} accepted, ${deliveries.rejected} refused (${deliveries.bad_signature} bad signature) in the last ${signatureThresholds.windowMinutes} min`
            : ""),
      },
    };
  },
};
