// Every 15 minutes: alert on scheduled jobs that have not succeeded on time (24 h → yellow,
// 48 h → red for the daily job), and resolve those alerts once they have.
import { checkMissedRuns, scheduledJobsOf } from "@steward/core/jobHealth";
import type { ResolvedContract } from "@steward/jobs/contract";
import { jobHealth } from "@steward/jobs/contracts";
import { handle } from "./definition.ts";

/** `catalog`: the worker's contracts with their schedules resolved from the env. */
export function jobHealthJob(catalog: () => readonly ResolvedContract[]) {
  return handle(jobHealth, async ({ deps }) => {
    const watched = scheduledJobsOf(catalog());
    // The schedules were put in place when this worker started.
    const workerStartedAt = new Date(Date.now() - process.uptime() * 1000);
    const health = await checkMissedRuns(deps, watched, deps.clock(), workerStartedAt);
    const late = health.filter((job) => job.state === "YELLOW" || job.state === "RED");
    return {
      summary:
        late.length === 0
          ? `all ${health.length} watched jobs on time`
          : late.map((job) => `${job.name}: ${job.state}`).join(", "),
      changes: health.map((job) => ({ job: job.name, state: job.state })),
    };
  });
}
