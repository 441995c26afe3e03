// Delivers due outbox messages: emails over SMTP and alert notifications to their channels
// (Slack, email, PagerDuty, ticket webhook). Every minute, and right after something is enqueued
// (the API queues a run). Concurrent runs are safe: rows are claimed with FOR UPDATE SKIP LOCKED.
import { channelSecretCipher } from "@steward/core/channelSecrets";
import { deliverEmails } from "@steward/core/businessEmails";
import { deliverDueNotifications, describeNotificationDelivery } from "@steward/core/notifications/deliver";
import { describeDelivery } from "@steward/core/outbox";
import { outboxDelivery } from "@steward/jobs/contracts";
import { handle } from "./definition.ts";

export const outboxDeliveryJob = handle(outboxDelivery, async ({ db, env, events, mail }) => {
  const delivery = { maxAttempts: env.OUTBOX_MAX_ATTEMPTS, leaseMs: env.OUTBOX_LEASE_MS };
  const emails = await deliverEmails(db, mail, delivery, { events });
  const notifications = await deliverDueNotifications(
    db,
    { email: mail, secrets: channelSecretCipher(env), events },
    delivery,
  );
  return {
    summary: `${describeDelivery(emails)}; ${describeNotificationDelivery(notifications)}`,
    changes: { emails: { ...emails }, notifications: { ...notifications } },
  };
});
