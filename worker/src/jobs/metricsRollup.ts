// Every minute: folds new payments and searches into the daily metric tables, stores the metrics
// snapshot the overview reads and publishes metricsUpdated. Incremental and idempotent; two runs
// at once take turns on an advisory lock. Every 10 minutes it also recomputes the Metrics page's
// operating metrics (their own snapshot: the overview does not read them).
import { rollupAllMetrics } from "@steward/core/operatingMetrics";
import { metricsRollup } from "@steward/jobs/contracts";
import { handle } from "./definition.ts";

export const metricsRollupJob = handle(metricsRollup, ({ deps }) => rollupAllMetrics(deps));
