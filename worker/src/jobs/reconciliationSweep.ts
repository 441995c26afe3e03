// Every minute, and at once when the worker finds Redis emptied: a reconciliation run still RUNNING
// whose heartbeat stopped for over 2 minutes lost its job (Redis flushed or crashed, or BullMQ gave
// up on it after too many stalls) and is queued again under the run's own job id; its job resumes it.
// A live run (heartbeat fresh) is never touched.
import { resumeStalledReconciliationRuns } from "@steward/core/reconciliation/runs";
import { reconciliationSweep } from "@steward/jobs/contracts";
import { handle } from "./definition.ts";

export const reconciliationSweepJob = handle(reconciliationSweep, async ({ deps }) => {
  const swept = await resumeStalledReconciliationRuns(deps);
  return {
    summary: swept.length === 0 ? "no reconciliation run left without its job" : `resumed run(s) ${swept.join(", ")}`,
    changes: { swept: swept.length, runIds: swept },
  };
});
