// Daily at 03:30 marketplace time (and on demand): compares our payments with Stripe's charges for
// the last 7 days. With a runId it executes the run an operator started (startReconciliation);
// without one (the schedule, or run-now on the Jobs page) it starts a run for the default period
// (core/src/reconciliation/runs.ts runReconciliationJob). It never changes payments; open
// discrepancies raise the red reconciliation alert.
import { runReconciliationJob } from "@steward/core/reconciliation/runs";
import { paymentReconciliation } from "@steward/jobs/contracts";
import { handle } from "./definition.ts";

export const reconciliationJob = handle(paymentReconciliation, ({ deps, jobRunId }, { runId }) =>
  runReconciliationJob(deps, { runId, jobRunId }),
);
