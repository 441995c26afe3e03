// Every minute: folds new payments and searches into the daily metric tables, stores the metrics
// snapshot the overview reads and publishes metricsUpdated. Incremental and idempotent; two runs
// at once take turns on an advisory lock. Every 10 minutes it also recomputes the Metrics page's
// operating metrics (their own snapshot: the overview does not read them).
import { metricsSettings, rollupMetrics } from "@steward/core/metrics";
import { refreshOperatingMetrics } from "@steward/core/operatingMetrics";
import { z } from "zod";
import { defineJob } from "./definition.ts";

export const metricsRollupJob = defineJob({
  name: "metrics-rollup",
  description: "Keeps the overview's metrics fresh (revenue, adoption, backlog, refunds, searches, AI cost).",
  schedule: { pattern: "* * * * *", tz: "UTC", everyMinutes: 1 },
  payload: z.object({}).passthrough(),
  async handler({ db, env, events }) {
    const started = performance.now();
    const settings = metricsSettings(env);
    const { metrics, full } = await rollupMetrics({ db, events, settings });
    const operating = await refreshOperatingMetrics(db, settings);
    const ms = Math.round(performance.now() - started);
    return {
      summary: `metrics ${full ? "rebuilt" : "rolled up"}${operating.refreshed ? ", operating metrics recomputed," : ""} in ${ms} ms (today ${metrics.today})`,
      changes: { full, ms, operatingRefreshed: operating.refreshed },
    };
  },
});
