// Every minute: folds new payments and searches into the daily metric tables, stores the metrics
// snapshot the overview reads and publishes metricsUpdated. Incremental and idempotent; two runs
// at once take turns on an advisory lock. Every 10 minutes it also recomputes the Metrics page's
// operating metrics (their own snapshot: the overview does not read them).
import { metricsSettings, rollupMetrics } from "@steward/core/metrics";
import { refreshOperatingMetrics } from "@steward/core/operatingMetrics";
import { metricsRollup } from "@steward/jobs/contracts";
import { handle } from "./definition.ts";

export const metricsRollupJob = handle(metricsRollup, async ({ db, env, events }) => {
  const started = performance.now();
  const settings = metricsSettings(env);
  const { metrics, full } = await rollupMetrics({ db, events, settings });
  const operating = await refreshOperatingMetrics(db, settings);
  const ms = Math.round(performance.now() - started);
  return {
    summary: `metrics ${full ? "rebuilt" : "rolled up"}${operating.refreshed ? ", operating metrics recomputed," : ""} in ${ms} ms (today ${metrics.today})`,
    changes: { full, ms, operatingRefreshed: operating.refreshed },
  };
});
