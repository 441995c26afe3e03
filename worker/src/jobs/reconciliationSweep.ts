// Every minute, and at once when the worker finds Redis emptied: a reconciliation run still RUNNING
// whose heartbeat stopped for over 2 minutes lost its job (Redis flushed or crashed, or BullMQ gave
// up on it after too many stalls) and is queued again under the run's own job id; its job resumes it.
// A live run (heartbeat fresh) is never touched.
import { sweepStalledReconciliationRuns } from "@steward/core/reconciliation/runs";
import { z } from "zod";
import { isJobActive, reconciliationJobFor } from "../queue.ts";
import { defineJob } from "./definition.ts";

export const reconciliationSweepJob = defineJob({
  name: "reconciliation-sweep",
  description: "Re-queues a reconciliation run whose heartbeat stopped (its job lost) under the run's own job id.",
  schedule: { pattern: "*/1 * * * *", tz: "UTC" },
  runOnRestore: true,
  payload: z.object({}).passthrough(),
  async handler({ db, queue }) {
    const swept = await sweepStalledReconciliationRuns(
      db,
      async (runIds) => {
        for (const runId of runIds) {
          const job = reconciliationJobFor(runId);
          // A job BullMQ gave up on (stalled too often) or finished keeps its id, and adding under
          // it again would be ignored; one still waiting, delayed or active is left as it is.
          const existing = await queue.getJob(job.opts.jobId);
          const state = existing ? await existing.getState() : null;
          if (existing && (state === "failed" || state === "completed")) await existing.remove();
          await queue.add(job.name, job.data, job.opts);
        }
      },
      {
        jobIsActive: (jobId) => isJobActive(queue, jobId),
      },
    );
    return {
      summary: swept.length === 0 ? "no reconciliation run left without its job" : `resumed run(s) ${swept.join(", ")}`,
      changes: { swept: swept.length, runIds: swept },
    };
  },
});
