// The health-checks job's minute: the registered checks (health.ts: probes, alert rules, the AI
// failover automation), old results pruned, the backup's freshness (backups.ts) and the operating
// signals (signals.ts: webhook success rate, Redis, AI spend against budget, login success rate).
import type { CoreDeps } from "./deps.ts";
import { checkBackupFreshness } from "./backups.ts";
import { pruneHealthResults, runHealthChecks } from "./health.ts";
import type { JobOutcome } from "./jobRuns.ts";
import type { SharedStore } from "./ports/sharedStore.ts";
import { checkOperatingSignals } from "./signals.ts";

export async function runHealthRound(
  deps: Pick<CoreDeps, "db" | "env" | "events" | "jobs" | "logger" | "stripe" | "clock">,
  /** The process's Redis connection, probed and read for the API's window summaries. */
  redis: SharedStore,
): Promise<JobOutcome> {
  const now = deps.clock();
  const run = await runHealthChecks({ ...deps, redis }, now);
  const pruned = await pruneHealthResults(deps.db, now);
  // The newest verified backup older than 26 h is red.
  const backups = await checkBackupFreshness(deps, now);
  const redisProbe = run.results.find((result) => result.check === "redis");
  const signals = await checkOperatingSignals(
    deps,
    deps.env,
    { ok: redisProbe?.ok ?? false, detail: redisProbe?.detail ?? "not probed" },
    now,
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
}
