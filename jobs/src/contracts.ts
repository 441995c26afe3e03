// The job catalog's contracts, listed once. The worker binds a handler to each (refusing a contract
// without exactly one); the API lists them on the Jobs and Overview pages and runs them now; core
// enqueues them by name through the JobQueue port, typed by these payloads.
import { z } from "zod";
import { defineContract, resolveContract, type ResolvedContract, type ScheduleSettings } from "./contract.ts";

const noPayload = z.object({}).passthrough();

// ── payments ──

export const stripeEvent = defineContract({
  name: "stripe-event",
  description: "Processes a received Stripe webhook event by re-fetching its object from Stripe.",
  queue: "payments",
  // `released`: a HELD event whose business has just joined the catalog. Its first job completed
  // (holding it) and Redis keeps completed ids for days, so this run needs an id of its own; one
  // is enough, as a business never leaves the catalog once in it (archiving keeps it).
  payload: z.object({ eventId: z.string().min(1).max(255), released: z.boolean().optional() }),
  jobId: ({ eventId, released }) => (released ? `stripe-event-${eventId}-released` : `stripe-event-${eventId}`),
});

export const stripeEventSweep = defineContract({
  name: "stripe-event-sweep",
  description: "Re-queues received Stripe events whose job Redis lost (same job id: never doubled).",
  queue: "payments",
  schedule: () => ({ pattern: "*/1 * * * *", tz: "UTC" }),
  runOnRestore: true,
  payload: noPayload,
});

export const refundExecute = defineContract({
  name: "refund-execute",
  description: "Refunds an approved request at Stripe, exactly once (its idempotency key), and records the result.",
  queue: "payments",
  // Enqueued after the approval's commit and again by refund-recovery, under the same id.
  payload: z.object({ refundRequestId: z.string().uuid() }),
  jobId: ({ refundRequestId }) => `refund-execute-${refundRequestId}`,
});

export const refundRecovery = defineContract({
  name: "refund-recovery",
  description: "Re-queues refund-execute for approved refunds still processing (same job id: never doubled).",
  queue: "payments",
  schedule: () => ({ pattern: "*/5 * * * *", tz: "UTC" }),
  runOnRestore: true,
  payload: noPayload,
});

// ── scoring ──

export const scoreReview = defineContract({
  name: "score-review",
  description: "Scores a submitted review with the AI provider, or the deterministic classifier as fallback.",
  queue: "scoring",
  payload: z.object({ reviewId: z.string().uuid() }),
  jobId: ({ reviewId }) => `score-review-${reviewId}`,
});

export const reviewScoringSweep = defineContract({
  name: "review-scoring-sweep",
  description: "Re-queues the scoring of pending reviews whose job Redis lost (same job id: never doubled).",
  queue: "scoring",
  schedule: () => ({ pattern: "*/5 * * * *", tz: "UTC" }),
  runOnRestore: true,
  payload: noPayload,
});

// ── outbox ──

export const outboxDelivery = defineContract({
  name: "outbox-delivery",
  description: "Sends due outbox emails and alert notifications, with retries, backoff and a dead state.",
  queue: "outbox",
  schedule: () => ({ pattern: "*/1 * * * *", tz: "UTC" }),
  runOnRestore: true,
  // `cause`: what just enqueued mail (a refund decided, an alert acknowledged); one kick per cause.
  payload: z.object({ cause: z.string().min(1).max(300).optional() }).passthrough(),
  jobId: ({ cause }) => (cause ? `outbox-delivery-${cause}` : undefined),
});

// ── reconciliation ──

export const reconciliationJobId = (runId: string): string => `reconciliation-${runId}`;

export const paymentReconciliation = defineContract({
  name: "payment-reconciliation",
  description: "Compares our payments with Stripe's charges charge by charge (last 7 days) and records discrepancies.",
  queue: "reconciliation",
  schedule: (settings) => ({ pattern: "30 3 * * *", tz: settings.MARKETPLACE_TIME_ZONE, everyMinutes: 24 * 60 }),
  payload: z.object({ runId: z.string().uuid().optional() }).passthrough(),
  jobId: ({ runId }) => (runId ? reconciliationJobId(runId) : undefined),
});

// ── maintenance: short, frequent jobs (the heartbeat the watchdog reads among them) ──

export const heartbeat = defineContract({
  name: "heartbeat",
  description: "Records that the worker is alive and how fast PostgreSQL answers.",
  queue: "maintenance",
  schedule: (settings) => ({ pattern: settings.HEARTBEAT_CRON, tz: "UTC", everyMinutes: 1 }),
  payload: noPayload,
});

export const featuredExpiry = defineContract({
  name: "featured-expiry-and-promotion",
  description: "Expires featured placements past their end and promotes the next queued businesses, per region.",
  queue: "maintenance",
  schedule: (settings) => ({ pattern: "0 2 * * *", tz: settings.MARKETPLACE_TIME_ZONE, everyMinutes: 24 * 60 }),
  runOnRestore: true,
  payload: noPayload,
});

export const jobHealth = defineContract({
  name: "job-health",
  description: "Raises an alert for scheduled jobs that missed their runs, and clears it when they recover.",
  queue: "maintenance",
  schedule: () => ({ pattern: "*/15 * * * *", tz: "UTC" }),
  payload: noPayload,
});

export const reconciliationSweep = defineContract({
  name: "reconciliation-sweep",
  description: "Re-queues a reconciliation run whose heartbeat stopped (its job lost) under the run's own job id.",
  // Not on the reconciliation queue: it must run while a long run holds that queue.
  queue: "maintenance",
  schedule: () => ({ pattern: "*/1 * * * *", tz: "UTC" }),
  runOnRestore: true,
  payload: noPayload,
});

export const alertReminders = defineContract({
  name: "alert-reminders",
  description: "Re-notifies open alerts whose silence window has ended.",
  queue: "maintenance",
  schedule: () => ({ pattern: "*/1 * * * *", tz: "UTC" }),
  payload: noPayload,
});

export const healthChecks = defineContract({
  name: "health-checks",
  description: "Probes dependencies and business measures, evaluates the alert rules and the AI failover.",
  queue: "maintenance",
  schedule: (settings) => ({ pattern: settings.HEALTH_CHECKS_CRON, tz: "UTC", everyMinutes: 1 }),
  payload: noPayload,
});

export const metricsRollup = defineContract({
  name: "metrics-rollup",
  description: "Keeps the overview's metrics fresh (revenue, adoption, backlog, refunds, searches, AI cost).",
  queue: "maintenance",
  schedule: () => ({ pattern: "* * * * *", tz: "UTC", everyMinutes: 1 }),
  payload: noPayload,
});

// ── nightly: long jobs, one at a time, on their own queue so they never delay the heartbeat ──

export const weeklyCheckup = defineContract({
  name: "weekly-checkup",
  description: "Checks the revenue path, data integrity, KPIs, table growth and security; reports Green/Yellow/Red.",
  queue: "nightly",
  schedule: () => ({ pattern: "0 2 * * 0", tz: "UTC", everyMinutes: 7 * 24 * 60 }),
  payload: noPayload,
});

export const dataRetention = defineContract({
  name: "data-retention",
  description:
    "Deletes job runs, sessions, login attempts, outbox messages, search events and health results past their retention, and clears old webhook payloads.",
  queue: "nightly",
  schedule: (settings) => ({ pattern: settings.RETENTION_CRON, tz: "UTC", everyMinutes: 1440 }),
  payload: noPayload,
});

export const backup = defineContract({
  name: "backup",
  description: "Dumps the database with pg_dump -Fc into BACKUP_DIR and checks the archive reads back whole.",
  queue: "nightly",
  schedule: (settings) => ({ pattern: settings.BACKUP_CRON, tz: "UTC", everyMinutes: 1440 }),
  payload: noPayload,
});

export const backupRestoreVerify = defineContract({
  name: "backup-restore-verify",
  description:
    "Restores the newest backup into a scratch database with pg_restore and compares the money tables' row counts.",
  queue: "nightly",
  schedule: (settings) => ({ pattern: settings.BACKUP_VERIFY_CRON, tz: "UTC", everyMinutes: 31 * 1440 }),
  payload: noPayload,
});

/** Every contract, by name: what the typed JobQueue accepts. */
export const contracts = {
  [heartbeat.name]: heartbeat,
  [featuredExpiry.name]: featuredExpiry,
  [jobHealth.name]: jobHealth,
  [scoreReview.name]: scoreReview,
  [reviewScoringSweep.name]: reviewScoringSweep,
  [stripeEvent.name]: stripeEvent,
  [stripeEventSweep.name]: stripeEventSweep,
  [refundExecute.name]: refundExecute,
  [refundRecovery.name]: refundRecovery,
  [outboxDelivery.name]: outboxDelivery,
  [paymentReconciliation.name]: paymentReconciliation,
  [reconciliationSweep.name]: reconciliationSweep,
  [alertReminders.name]: alertReminders,
  [healthChecks.name]: healthChecks,
  [metricsRollup.name]: metricsRollup,
  [weeklyCheckup.name]: weeklyCheckup,
  [dataRetention.name]: dataRetention,
  [backup.name]: backup,
  [backupRestoreVerify.name]: backupRestoreVerify,
} as const;

export type Contracts = typeof contracts;
export type JobName = keyof Contracts;
/** What enqueue takes for a job (the schema's input: defaults may be left out). */
export type JobPayload<Name extends JobName> = z.input<Contracts[Name]["payload"]>;

/** The catalog with its schedules built from the validated settings (no process.env read here). */
export function jobContracts(settings: ScheduleSettings): ResolvedContract[] {
  return Object.values(contracts).map((contract) => resolveContract(contract, settings));
}

/** Whether `name` is a job of the catalog. */
export function isJobName(name: string): name is JobName {
  return Object.hasOwn(contracts, name);
}
