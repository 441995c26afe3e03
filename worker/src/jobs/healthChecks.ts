// Every minute: probe PostgreSQL, Redis, the AI provider and Stripe, measure webhooks, jobs, the
// API's error rate and p95, queue backlog and refund rate; store the results (the dashboard's
// time series), evaluate the alert rules, let the AI failover automation act, publish healthChanged.
import { checkBackupFreshness } from "@steward/core/backups";
import { pruneHealthResults, runHealthChecks } from "@steward/core/health";
import { checkOperatingSignals } from "@steward/core/signals";
import { healthChecks } from "@steward/jobs/contracts";
import { handle } from "./definition.ts";

export const healthChecksJob = handle(healthChecks, async ({ db, env, events, redis, payments }) => {
  const now = new Date();
  const run = await runHealthChecks({ db, redis, env, events, stripe: payments }, now);
  const pruned = await pruneHealthResults(db, now);
  // The newest verified backup older than 26 h is red (core/src/backups.ts).
  const backups = await checkBackupFreshness(db, now, { events });
  // Webhook success rate, Redis, AI spend against budget, login success rate (core/src/signals.ts).
  const redisProbe = run.results.find((result) => result.check === "redis");
  const signals = await checkOperatingSignals(
    db,
    env,
    { ok: redisProbe?.ok ?? false, detail: redisProbe?.detail ?? "not probed" },
    now,
    { events },
  );
  const notGreen = run.results.filter((result) => result.status !== "GREEN");
  return {
    summary:
      `overall ${run.overall}` +
      (notGreen.length > 0 ? `: ${notGreen.map((result) => `${result.check} ${result.status}`).join(", ")}` : "") +
      (run.failover.decision.action !== "NONE" ? `; automation: ${run.failover.decision.action}` : ""),
    changes: {
      overall: run.overall,
      firing: run.conditions.map((condition) => condition.fingerprint),
      failover: run.failover.decision.action,
      pruned,
      backupStale: backups.stale,
      signals: signals.filter((signal) => signal.severity !== "GREEN").map((signal) => signal.key),
    },
  };
});
