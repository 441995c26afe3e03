// Delivers due outbox emails over SMTP: every minute, and right after something is enqueued
// (the API queues a run). Concurrent runs are safe: rows are claimed with FOR UPDATE SKIP LOCKED.
import { createEmailSender } from "@steward/core/email/sender";
import { deliverDueEmails, describeDelivery } from "@steward/core/outbox";
import { z } from "zod";
import { defineJob } from "./definition.ts";

export const outboxDeliveryJob = defineJob({
  name: "outbox-delivery",
  description: "Sends due outbox emails over SMTP, with retries, backoff and a dead state.",
  schedule: { pattern: "*/1 * * * *", tz: "UTC" },
  runOnRestore: true,
  payload: z.object({}).passthrough(),
  async handler({ db, env }) {
    const sender = createEmailSender(env);
    try {
      const report = await deliverDueEmails(db, sender, {
        maxAttempts: env.OUTBOX_MAX_ATTEMPTS,
        leaseMs: env.OUTBOX_LEASE_MS,
      });
      return { summary: describeDelivery(report), changes: { ...report } };
    } finally {
      sender.close();
    }
  },
});
