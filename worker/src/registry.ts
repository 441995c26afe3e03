// The handlers, one per contract of @steward/jobs/contracts, listed once here.
import type { JobContract, ResolvedContract, ScheduleSettings } from "@steward/jobs/contract";
import { jobContracts } from "@steward/jobs/contracts";
import { alertRemindersJob } from "./jobs/alertReminders.ts";
import { backupJob, backupRestoreVerifyJob } from "./jobs/backup.ts";
import { dataRetentionJob } from "./jobs/dataRetention.ts";
import type { JobBinding } from "./jobs/definition.ts";
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

/** Every handler; job-health reads the contracts the worker runs (their schedules resolved). */
export function jobHandlers(watched: () => readonly ResolvedContract[]): JobBinding[] {
  return [
    heartbeatJob,
    featuredExpiryJob,
    jobHealthJob(watched),
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
}

/** The whole catalog for this env: every contract bound to its handler, checked. */
export function jobCatalog(settings: ScheduleSettings): JobBinding[] {
  const contracts = jobContracts(settings);
  const handlers = jobHandlers(() => contracts);
  validateCatalog(contracts, handlers);
  return handlers;
}

/**
 * Refuses a catalog where a contract has no handler or more than one, or a handler has no
 * contract: the worker must not start (a job would never run, run twice, or never be queued).
 */
export function validateCatalog(
  contracts: readonly Pick<JobContract, "name">[],
  bindings: readonly JobBinding[],
): Map<string, JobBinding> {
  const byName = validateBindings(bindings);
  const contractNames = new Set(contracts.map((contract) => contract.name));
  for (const contract of contracts)
    if (!byName.has(contract.name)) throw new Error(`Job '${contract.name}' has no handler`);
  for (const name of byName.keys()) if (!contractNames.has(name)) throw new Error(`Job '${name}' has no contract`);
  return byName;
}

/** Refuses a schedule in a time zone Intl does not know (BullMQ would never fire it). */
export function validateSchedules(contracts: readonly ResolvedContract[]): void {
  for (const contract of contracts) {
    if (!contract.schedule) continue;
    try {
      new Intl.DateTimeFormat("en", { timeZone: contract.schedule.tz });
    } catch {
      throw new Error(`Job '${contract.name}' has an unknown time zone '${contract.schedule.tz}'`);
    }
  }
}

/** Indexes bindings by name, refusing one listed twice or without a handler function. */
export function validateBindings(bindings: readonly JobBinding[]): Map<string, JobBinding> {
  const byName = new Map<string, JobBinding>();
  for (const binding of bindings) {
    const name = binding.contract.name;
    if (typeof binding.handler !== "function") throw new Error(`Job '${name}' has no handler`);
    if (byName.has(name)) throw new Error(`Job '${name}' is defined twice`);
    byName.set(name, binding);
  }
  return byName;
}
