// Every minute: folds new payments and searches into the daily metric tables, stores the metrics
// snapshot the overview reads and publishes metricsUpdated. Incremental and idempotent; two runs
// at once take turns on an advisory lock.
import { metricsSettings, rollupMetrics } from "@steward/core/metrics";
import { metricsRollup } from "@steward/jobs/contracts";
import { handle } from "./definition.ts";

export const metricsRollupJob = handle(metricsRollup, async ({ db, env, events }) => {
  const started = performance.now();
  const { metrics, full } = await rollupMetrics({ db, events, settings: metricsSettings(env) });
  const ms = Math.round(performance.now() - started);
  return {
    summary: `metrics ${full ? "rebuilt" : "rolled up"} in ${ms} ms (today ${metrics.today})`,
    changes: { full, ms },
  };
});
