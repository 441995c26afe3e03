// The outbox-delivery job's work (every minute, and right after a change queues a run through
// followUps.deliverOutboxSoon): the due business emails over SMTP, then the due alert
// notifications to their channels. Concurrent runs are safe: rows are claimed with FOR UPDATE SKIP
// LOCKED.
import { deliverEmails } from "./businessEmails.ts";
import type { CoreDeps } from "./deps.ts";
import type { JobOutcome } from "./jobRuns.ts";
import { deliverDueNotifications, describeNotificationDelivery } from "./notifications/deliver.ts";
import { describeDelivery } from "./outbox.ts";

export async function deliverOutbox(
  deps: Pick<CoreDeps, "db" | "events" | "jobs" | "logger" | "mail" | "secrets" | "env">,
): Promise<JobOutcome> {
  const { env } = deps;
  const delivery = { maxAttempts: env.OUTBOX_MAX_ATTEMPTS, leaseMs: env.OUTBOX_LEASE_MS };
  const emails = await deliverEmails(deps, delivery);
  const notifications = await deliverDueNotifications(deps, delivery);
  return {
    summary: `${describeDelivery(emails)}; ${describeNotificationDelivery(notifications)}`,
    changes: { emails: { ...emails }, notifications: { ...notifications } },
  };
}
