// Every minute: folds new payments and searches into the daily metric tables, stores the metrics
// snapshot the overview reads and publishes metricsUpdated. Incremental and idempotent; two runs
// at once take turns on an advisory lock.
import { metricsSettings, rollupMetrics } from "@steward/core/metrics";
import { z } from "zod";
import { defineJob } from "./definition.ts";

export const metricsRollupJob = defineJob({
  name: "metrics-rollup",
  description: "Keeps the overview's metrics fresh (revenue, adoption, backlog, refunds, searches, AI cost).",
  schedule: { pattern: "* * * * *", tz: "UTC", everyMinutes: 1 },
  payload: z.object({}).passthrough(),
  async handler({ db, env, events }) {
    const started = performance.now();
    const { metrics, full } = await rollupMetrics({ db, events, settings: metricsSettings(env) });
    const ms = Math.round(performance.now() - started);
    return {
      summary: `metrics ${full ? "rebuilt" : "rolled up"} in ${ms} ms (today ${metrics.today})`,
      changes: { full, ms },
    };
  },
});
