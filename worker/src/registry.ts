// The job catalog: one file per job under jobs/, listed once here.
import { alertRemindersJob } from "./jobs/alertReminders.ts";
import { backupJob, backupRestoreVerifyJob } from "./jobs/backup.ts";
import { dataRetentionJob } from "./jobs/dataRetention.ts";
import type { JobDefinition } from "./jobs/definition.ts";
import { featuredExpiryJob } from "./jobs/featuredExpiry.ts";
import { healthChecksJob } from "./jobs/healthChecks.ts";
import { heartbeatJob } from "./jobs/heartbeat.ts";
import { jobHealthJob } from "./jobs/jobHealth.ts";
import { metricsRollupJob } from "./jobs/metricsRollup.ts";
import { outboxDeliveryJob } from "./jobs/outboxDelivery.ts";
import { reconciliationJob } from "./jobs/reconciliation.ts";
import { reconciliationSweepJob } from "./jobs/reconciliationSweep.ts";
import { refundExecuteJob } from "./jobs/refundExecute.ts";
import { refundRecoveryJob } from "./jobs/refundRecovery.ts";
import { reviewScoringSweepJob } from "./jobs/reviewScoringSweep.ts";
import { scoreReviewJob } from "./jobs/scoreReview.ts";
import { stripeEventJob } from "./jobs/stripeEvent.ts";
import { stripeEventSweepJob } from "./jobs/stripeEventSweep.ts";
import { weeklyCheckupJob } from "./jobs/weeklyCheckup.ts";

export const jobCatalog: readonly JobDefinition[] = [
  heartbeatJob,
  featuredExpiryJob,
  jobHealthJob(() => jobCatalog),
  scoreReviewJob,
  reviewScoringSweepJob,
  stripeEventJob,
  stripeEventSweepJob,
  refundExecuteJob,
  refundRecoveryJob,
  outboxDeliveryJob,
  reconciliationJob,
  reconciliationSweepJob,
  alertRemindersJob,
  healthChecksJob,
  metricsRollupJob,
  weeklyCheckupJob,
  dataRetentionJob,
  backupJob,
  backupRestoreVerifyJob,
];

/** Refuses a catalog with a job listed twice or without a handler: the worker must not start. */
export function validateCatalog(catalog: readonly JobDefinition[]): Map<string, JobDefinition> {
  const byName = new Map<string, JobDefinition>();
  for (const job of catalog) {
    if (typeof job.handler !== "function") throw new Error(`Job '${job.name}' has no handler`);
    if (byName.has(job.name)) throw new Error(`Job '${job.name}' is defined twice`);
    if (job.schedule) {
      try {
        new Intl.DateTimeFormat("en", { timeZone: job.schedule.tz });
      } catch {
        throw new Error(`Job '${job.name}' has an unknown time zone '${job.schedule.tz}'`);
      }
    }
    byName.set(job.name, job);
  }
  return byName;
}
